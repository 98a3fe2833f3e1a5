"""pytest conftest used by extract.py to *capture* (not run) LocalStack's Step Functions
snapshot tests.

Every `localstack*` import is replaced by permissive stubs; the AWS client, the
`create_state_machine` fixture and the snapshot fixture are fakes that record which state
machine definition / execution input each test sends and under which snapshot key
("get_execution_history", "exec_hist_resp_0", ...) the resulting history would be recorded.
The captured data is appended to $CAPTURE_OUT as JSON lines, keyed by the pytest node id.
Nothing is sent anywhere.
"""

import importlib.abc
import importlib.machinery
import json
import os
import sys
import time
import types

import pytest

CAPTURE_OUT = os.environ.get("CAPTURE_OUT", "/tmp/s6/ls/captured.jsonl")
_CURRENT = {"nodeid": None}

time.sleep = lambda *a, **k: None  # tests sometimes sleep between steps


# ---------------------------------------------------------------- generic stub
class Stub:
    """Callable, attribute-able, decorator-transparent placeholder."""

    def __init__(self, name="stub"):
        self._name = name

    def __getattr__(self, item):
        if item.startswith("__") and item.endswith("__"):
            raise AttributeError(item)
        return Stub(f"{self._name}.{item}")

    def __call__(self, *args, **kwargs):
        # used as a bare decorator: @markers.aws.validated
        if len(args) == 1 and not kwargs and callable(args[0]) and not isinstance(args[0], Stub):
            return args[0]
        return Stub(f"{self._name}()")

    def __getitem__(self, item):
        return Stub(f"{self._name}[{item!r}]")

    def __iter__(self):
        return iter([])

    def __bool__(self):
        return True

    def __str__(self):
        return f"<{self._name}>"

    def __or__(self, other):
        return self

    def __ror__(self, other):
        return self

    def __mro_entries__(self, bases):
        return (object,)


class StubModule(types.ModuleType):
    def __getattr__(self, item):
        if item.startswith("__") and item.endswith("__"):
            raise AttributeError(item)
        return Stub(f"{self.__name__}.{item}")


def _log(rec):
    rec["nodeid"] = _CURRENT["nodeid"]
    with open(CAPTURE_OUT, "a") as f:
        f.write(json.dumps(rec) + "\n")


# ---------------------------------------------------- fake stepfunctions client
class FakeSfn:
    def __init__(self):
        self.n_sm = 0
        self.n_exec = 0
        self.sms = {}
        self.execs = {}

    def create_state_machine(self, **kwargs):
        arn = f"fake:sm:{self.n_sm}"
        self.n_sm += 1
        self.sms[arn] = kwargs.get("definition")
        return {"stateMachineArn": arn, "creationDate": "date"}

    def _start(self, kind, **kwargs):
        sm = kwargs.get("stateMachineArn")
        earn = f"fake:exec:{self.n_exec}"
        self.n_exec += 1
        self.execs[earn] = {
            "kind": kind,
            "definition": self.sms.get(sm.split(":version")[0] if isinstance(sm, str) else None),
            "input": kwargs.get("input"),
            "sm": sm,
        }
        return {"executionArn": earn, "startDate": "date"}

    def start_execution(self, **kwargs):
        return self._start("standard", **kwargs)

    def start_sync_execution(self, **kwargs):
        r = self._start("sync", **kwargs)
        return {"__exec__": r["executionArn"], "status": "SUCCEEDED", "output": "{}"}

    def get_execution_history(self, **kwargs):
        return {"__exec__": kwargs.get("executionArn"), "events": []}

    def describe_execution(self, **kwargs):
        return {"__describe__": kwargs.get("executionArn"), "status": "SUCCEEDED"}

    def __getattr__(self, item):
        if item.startswith("__"):
            raise AttributeError(item)
        return lambda *a, **k: Stub(f"sfn.{item}")


class FakeAwsClient:
    def __init__(self):
        self.stepfunctions = FakeSfn()

    def __getattr__(self, item):
        if item.startswith("__"):
            raise AttributeError(item)
        return Stub(f"aws_client.{item}")


class FakeSnapshot:
    def __init__(self, client_holder):
        self.transform = Stub("transform")
        self._clients = client_holder

    def add_transformer(self, *a, **k):
        pass

    def add_transformers_list(self, *a, **k):
        pass

    def match(self, name, value):
        if isinstance(value, dict) and "__exec__" in value:
            for c in self._clients:
                ex = c.stepfunctions.execs.get(value["__exec__"])
                if ex is not None:
                    _log({"match": name, **ex})
                    return
        if isinstance(value, list) and value and all(
            isinstance(v, dict) and "input" in v for v in value
        ):
            # choice_operators/utils.py: one execution per case, in order
            execs = [ex for c in self._clients for ex in c.stepfunctions.execs.values()]
            if len(execs) == len(value):
                for i, ex in enumerate(execs):
                    assert ex["input"] == value[i]["input"]
                    _log({"match": f"{name}[{i}]", "list_index": i, "list_name": name, **ex})
                return
        _log({"match": name, "other": True})

    def __getattr__(self, item):
        if item.startswith("__"):
            raise AttributeError(item)
        return Stub(f"snapshot.{item}")


# ------------------------------------------- localstack.testing...stepfunctions.utils
def _make_sfn_utils():
    m = StubModule("localstack.testing.pytest.stepfunctions.utils")

    def create_state_machine_with_iam_role(
        target_aws_client,
        create_state_machine_iam_role,
        create_state_machine,
        snapshot,
        definition,
        logging_configuration=None,
        state_machine_name=None,
        state_machine_type="STANDARD",
    ):
        resp = create_state_machine(
            target_aws_client, name="sm", definition=definition, roleArn="role",
            type=state_machine_type,
        )
        return resp["stateMachineArn"]

    def launch_and_record_execution(
        target_aws_client, sfn_snapshot, state_machine_arn, execution_input,
        verify_execution_description=False,
    ):
        c = target_aws_client.stepfunctions
        r = c.start_execution(stateMachineArn=state_machine_arn, input=execution_input)
        sfn_snapshot.match("get_execution_history", c.get_execution_history(executionArn=r["executionArn"]))
        return r["executionArn"]

    def create_and_record_execution(
        target_aws_client, create_state_machine_iam_role, create_state_machine, sfn_snapshot,
        definition, execution_input, verify_execution_description=False,
    ):
        arn = create_state_machine_with_iam_role(
            target_aws_client, create_state_machine_iam_role, create_state_machine,
            sfn_snapshot, definition,
        )
        return launch_and_record_execution(
            target_aws_client, sfn_snapshot, arn, execution_input, verify_execution_description
        )

    def await_execution_terminated(stepfunctions_client, execution_arn):
        return []

    m.create_state_machine_with_iam_role = create_state_machine_with_iam_role
    m.launch_and_record_execution = launch_and_record_execution
    m.create_and_record_execution = create_and_record_execution
    m.await_execution_terminated = await_execution_terminated
    m.await_execution_success = await_execution_terminated
    return m


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname == "localstack" or fullname.startswith(("localstack.", "localstack_snapshot")):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        if spec.name == "localstack.testing.pytest.stepfunctions.utils":
            m = _make_sfn_utils()
        else:
            m = StubModule(spec.name)
        if spec.name == "localstack.testing.aws.util":
            m.is_aws_cloud = lambda: True  # snapshots were recorded against AWS
        m.__path__ = []
        return m

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _Finder())


# -------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True)
def _record_nodeid(request):
    _CURRENT["nodeid"] = request.node.nodeid
    yield


@pytest.fixture
def _clients():
    return []


@pytest.fixture
def aws_client(_clients):
    c = FakeAwsClient()
    _clients.append(c)
    return c


@pytest.fixture
def aws_client_no_sync_prefix(aws_client):
    return aws_client


@pytest.fixture
def sfn_snapshot(_clients):
    return FakeSnapshot(_clients)


@pytest.fixture
def snapshot(sfn_snapshot):
    return sfn_snapshot


@pytest.fixture
def create_state_machine_iam_role():
    return lambda *a, **k: "snf_role_arn"


@pytest.fixture
def create_state_machine():
    def _create(target_aws_client, **kwargs):
        return target_aws_client.stepfunctions.create_state_machine(**kwargs)

    return _create


@pytest.fixture
def aws_client_no_retry(aws_client):
    return aws_client


@pytest.fixture
def create_lambda_function():
    return Stub("create_lambda_function")


@pytest.fixture
def s3_create_bucket():
    return Stub("s3_create_bucket")


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        with open(CAPTURE_OUT, "a") as f:
            f.write(json.dumps({"nodeid": report.nodeid, "outcome": report.outcome}) + "\n")
