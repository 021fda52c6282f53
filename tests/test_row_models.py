from piccolo.columns import Integer, Serial, Text
from piccolo.table import Table

from vde.row_models import read_model, secret_columns, write_model


def make_table() -> type[Table]:
    class Gadget(Table, tablename="vde_test_gadgets"):
        id = Serial(primary_key=True)
        label = Text(default=None)
        pin = Text(default=None, secret=True)
        recovery_code = Text(null=True, default=None, secret=True)
        uses = Integer(default=3)

    return Gadget


def test_a_new_secret_column_is_left_out_of_the_read_model_without_a_list():
    gadget = make_table()
    assert {c._meta.name for c in secret_columns(gadget)} == {"pin", "recovery_code"}
    assert set(read_model(gadget, "GadgetRead").model_fields) == {"id", "label", "uses"}


def test_write_model_takes_secrets_and_defaults_but_not_the_identity():
    model = write_model(make_table(), "GadgetWrite")
    assert set(model.model_fields) == {"label", "pin", "recovery_code", "uses"}
    assert model(label="x", pin="1234").model_dump() == {
        "label": "x", "pin": "1234", "recovery_code": None, "uses": 3}
