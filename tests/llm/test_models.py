import pydantic
import pytest

from vde.llm.job_status import JobStatus
from vde.llm.models import LlmJobResultRead, LlmJobResultWrite
from vde.llm.tables import LlmJobResult


async def test_job_result_round_trip_parses_json(vde_db):
    job = LlmJobResultWrite(id="r1", job_id="j1", user_id="u1", status="pending",
                            request_body='{"prompt": "hi"}')
    await LlmJobResult.insert(LlmJobResult(**job.model_dump())).run()

    read = LlmJobResultRead.model_validate(await LlmJobResult.select().first().run())
    assert read.status is JobStatus.PENDING
    assert read.request_body == {"prompt": "hi"}
    assert read.response is None


def test_job_result_write_rejects_unknown_status_and_bad_json():
    with pytest.raises(pydantic.ValidationError) as error:
        LlmJobResultWrite(id="r1", job_id="j1", user_id="u1", status="done",
                          request_body="{not json")
    assert {e["loc"][0] for e in error.value.errors()} == {"status", "request_body"}
