//! {{name}}: binds the powersweep workload world (wit/workload.wit) to the job in `job.rs`.

pub mod job;

wit_bindgen::generate!({ path: "wit", world: "workload" });

struct Workload;

impl Guest for Workload {
    fn describe() -> String {
        job::DESCRIPTION.into()
    }

    fn plan(payload: String) -> Result<Vec<String>, String> {
        job::plan(&payload)
    }

    fn run(task: String) -> Result<String, String> {
        job::run(&task)
    }
}

export!(Workload);
