import json
import unittest

import job


class JobTest(unittest.TestCase):
    def test_counts_the_primes_below_the_bound(self):
        tasks = job.plan('{"tasks": 2, "below": 100}')
        self.assertEqual(len(tasks), 2)
        self.assertEqual(json.loads(job.run(tasks[0])), {"primes": 25})
        with self.assertRaises(ValueError):
            job.plan('{"tasks": 0}')


if __name__ == "__main__":
    unittest.main()
