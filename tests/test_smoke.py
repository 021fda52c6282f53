from vde.auth.tables import User


async def test_insert(vde_db):
    await User.insert(User(id="u1", email="a@example.com")).run()
    assert await User.count().run() == 1


async def test_insert_again(vde_db, vde_conn):
    await User.insert(User(id="u1", email="a@example.com")).run()
    assert await vde_conn.fetchval("select count(*) from vde_users") == 1
