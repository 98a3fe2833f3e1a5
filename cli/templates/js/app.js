// {{name}}: binds the powersweep workload world (wit/workload.wit) to the job in job.js.
// An export that throws a string returns it as the WIT result's error.
import { DESCRIPTION, plan as planJob, run as runJob } from './job.js';

export function describe() {
  return DESCRIPTION;
}

export function plan(payload) {
  try {
    return planJob(payload);
  } catch (e) {
    throw String(e.message ?? e);
  }
}

export function run(task) {
  try {
    return runJob(task);
  } catch (e) {
    throw String(e.message ?? e);
  }
}
