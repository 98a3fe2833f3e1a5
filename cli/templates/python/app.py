"""{{name}}: binds the powersweep workload world (wit/workload.wit) to the job in job.py."""

import wit_world
from componentize_py_types import Err

import job


class WitWorld(wit_world.WitWorld):
    def describe(self) -> str:
        return job.DESCRIPTION

    def plan(self, payload: str) -> list[str]:
        try:
            return job.plan(payload)
        except ValueError as e:
            raise Err(str(e))

    def run(self, task: str) -> str:
        try:
            return job.run(task)
        except ValueError as e:
            raise Err(str(e))
