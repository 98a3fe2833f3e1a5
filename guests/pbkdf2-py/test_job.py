import hashlib
import json
import unittest

import job


class JobTest(unittest.TestCase):
    def test_keys_are_hashlibs(self):
        for hash_name in ("sha256", "sha512"):
            for length in (16, 64, 100):
                tasks = job.plan(json.dumps({"passwords": ["a", "long" * 40], "iterations": 3,
                                             "hash": hash_name, "keyLength": length, "salt": "s"}))
                for task, password in zip(tasks, ["a", "long" * 40]):
                    key = json.loads(job.run(task))["key"]
                    expected = hashlib.pbkdf2_hmac(hash_name, password.encode(), b"s", 3, length)
                    self.assertEqual(key, expected.hex())

    def test_bad_payloads_are_named(self):
        for payload, words in [('{"iterations": 0}', "iterations"), ('{"x": 1}', "unknown field"),
                               ('{"passwords": []}', "empty"), ("[1]", "expected an object")]:
            with self.assertRaisesRegex(ValueError, words):
                job.plan(payload)


if __name__ == "__main__":
    unittest.main()
