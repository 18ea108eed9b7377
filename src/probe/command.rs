//! `command` probes: run a program (never through a shell) and judge its exit
//! status and output. Refused unless the operator allowed it, so opening a
//! checklist can never run code on their machine.

use std::path::Path;
use std::process::{ExitStatus, Stdio};

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use super::Outcome;
use super::cel;
use crate::checklist::model::CommandProbe;
use crate::doc::Doc;

/// stdout and stderr are each kept up to this many bytes; the rest is read
/// and dropped so the program never blocks on a full pipe.
const MAX_OUTPUT_BYTES: usize = 64 * 1024;

pub const REFUSED: &str = "command probes are disabled: pass --allow-exec, \
                           or trust this checklist in the config";

pub async fn run(probe: &CommandProbe, base_dir: &Path, allow_exec: bool) -> Outcome {
    if !allow_exec {
        return Outcome::error(REFUSED);
    }
    let Some(program) = probe.argv.first() else {
        return Outcome::error("the command is empty: argv needs at least the program");
    };
    let cwd = match &probe.cwd {
        Some(cwd) => base_dir.join(cwd),
        None => base_dir.to_path_buf(),
    };
    if !cwd.is_dir() {
        return Outcome::error(format!("working folder {} does not exist", cwd.display()));
    }
    let argv = match probe
        .argv
        .iter()
        .map(|a| super::secret_env(a))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(argv) => argv,
        Err(reason) => return Outcome::error(format!("cannot run {program}: {reason}")),
    };
    let finished = match execute(&argv, &cwd).await {
        Ok(finished) => finished,
        Err(reason) => return Outcome::error(format!("cannot run {program}: {reason}")),
    };
    judge(probe, &cwd, &finished)
}

/// How a run ended, with its output cleaned for display.
struct Finished {
    status: ExitStatus,
    stdout: Captured,
    stderr: Captured,
}

struct Captured {
    text: String,
    truncated: bool,
}

async fn execute(argv: &[String], cwd: &Path) -> Result<Finished, String> {
    let (program, args) = argv.split_first().ok_or("argv is empty")?;
    // kill_on_drop: when the runner's timeout drops this future, the
    // program is killed instead of left running.
    let mut child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "no such program".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        })?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let (status, stdout, stderr) =
        tokio::join!(child.wait(), read_capped(stdout), read_capped(stderr));
    let status = status.map_err(|e| format!("lost track of it: {e}"))?;
    Ok(Finished {
        status,
        stdout,
        stderr,
    })
}

async fn read_capped(stream: Option<impl AsyncRead + Unpin>) -> Captured {
    let mut kept = Vec::new();
    let mut truncated = false;
    if let Some(mut stream) = stream {
        let mut buf = [0u8; 8192];
        // A read error ends the capture; the exit status still tells.
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
            let room = MAX_OUTPUT_BYTES - kept.len();
            if n > room {
                truncated = true;
            }
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
    }
    Captured {
        text: crate::text::sanitize(&String::from_utf8_lossy(&kept), true),
        truncated,
    }
}

fn judge(probe: &CommandProbe, cwd: &Path, run: &Finished) -> Outcome {
    let detail = evidence(probe, cwd, run);
    let Some(code) = run.status.code() else {
        return Outcome::fail(
            format!("{} was killed by {}", probe.argv[0], signal(run.status)),
            detail,
        );
    };
    if code != probe.exit {
        let mut summary = format!("exited {code} (expected {})", probe.exit);
        if let Some(line) = first_line(&run.stderr.text).or_else(|| first_line(&run.stdout.text)) {
            summary.push_str(": ");
            summary.push_str(&line);
        }
        return Outcome::fail(summary, detail);
    }
    if let Some(expect) = &probe.expect {
        let exit = Doc::from_value(&json!(code));
        let stdout = Doc::from_value(&json!(run.stdout.text));
        let stderr = Doc::from_value(&json!(run.stderr.text));
        let vars = [
            ("exit", exit.root()),
            ("stdout", stdout.root()),
            ("stderr", stderr.root()),
        ];
        if let Err((verdict, summary)) = cel::check(expect, &vars) {
            return Outcome::new(verdict, summary, detail);
        }
    }
    let mut summary = format!("exited {code}");
    if let Some(line) = first_line(&run.stdout.text) {
        summary.push_str(": ");
        summary.push_str(&line);
    }
    Outcome::pass(summary, detail)
}

fn first_line(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(crate::text::truncate(line, 160))
}

#[cfg(unix)]
fn signal(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    status
        .signal()
        .map_or_else(|| "a signal".into(), |n| format!("signal {n}"))
}

#[cfg(not(unix))]
fn signal(_status: ExitStatus) -> String {
    "a signal".into()
}

fn evidence(probe: &CommandProbe, cwd: &Path, run: &Finished) -> Value {
    json!({
        // As written: `${env:NAME}` stays unexpanded.
        "argv": probe.argv,
        "cwd": cwd.display().to_string(),
        "exit": run.status.code(),
        "expected_exit": probe.exit,
        "stdout": run.stdout.text,
        "stdout_truncated": run.stdout.truncated,
        "stderr": run.stderr.text,
        "stderr_truncated": run.stderr.truncated,
        "expect": probe.expect.as_ref().map(|e| e.source.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::model::ProbeSpec;
    use crate::probe::{ProbeContext, Verdict};
    use std::sync::Arc;
    use std::time::Duration;

    fn probe(argv: &[&str]) -> CommandProbe {
        CommandProbe {
            argv: argv.iter().map(|a| a.to_string()).collect(),
            cwd: None,
            exit: 0,
            expect: None,
        }
    }

    fn here() -> &'static Path {
        Path::new(".")
    }

    #[tokio::test]
    async fn refused_without_allow_exec() {
        let dir = tempfile::tempdir().expect("a temp dir can be made");
        let out = run(&probe(&["touch", "ran"]), dir.path(), false).await;
        assert_eq!(out.verdict, Verdict::Error);
        assert_eq!(out.evidence.summary, REFUSED);
        assert!(REFUSED.contains("--allow-exec") && REFUSED.contains("trust"));
        assert!(!dir.path().join("ran").exists(), "the command must not run");
    }

    #[tokio::test]
    async fn exit_status_decides_by_default() {
        let out = run(&probe(&["true"]), here(), true).await;
        assert_eq!(out.verdict, Verdict::Pass);
        assert_eq!(out.evidence.summary, "exited 0");

        let out = run(&probe(&["false"]), here(), true).await;
        assert_eq!(out.verdict, Verdict::Fail);
        assert_eq!(out.evidence.summary, "exited 1 (expected 0)");

        let mut expected_failure = probe(&["false"]);
        expected_failure.exit = 1;
        let out = run(&expected_failure, here(), true).await;
        assert_eq!(out.verdict, Verdict::Pass);
    }

    #[tokio::test]
    async fn a_failing_command_shows_its_stderr() {
        let dir = tempfile::tempdir().expect("a temp dir can be made");
        let out = run(&probe(&["ls", "missing-file"]), dir.path(), true).await;
        assert_eq!(out.verdict, Verdict::Fail);
        let summary = &out.evidence.summary;
        assert!(summary.contains("(expected 0): ls: "), "{summary}");
        assert!(summary.contains("missing-file"), "{summary}");
    }

    #[tokio::test]
    async fn expect_sees_stdout_and_runs_in_cwd() {
        let dir = tempfile::tempdir().expect("a temp dir can be made");
        std::fs::create_dir(dir.path().join("sub")).expect("temp folders can be made");
        std::fs::write(dir.path().join("sub/a.txt"), "").expect("temp files can be written");
        let mut p = probe(&["ls"]);
        p.cwd = Some("sub".into());
        p.expect = Some(
            cel::compile("stdout.trim() == 'a.txt' && exit == 0 && stderr == ''")
                .expect("compiles"),
        );
        let out = run(&p, dir.path(), true).await;
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.evidence.summary);
        assert_eq!(out.evidence.summary, "exited 0: a.txt");

        let mut p = probe(&["echo", "hello", "world"]);
        p.expect = Some(cel::compile("stdout.contains('bye')").expect("compiles"));
        let out = run(&p, here(), true).await;
        assert_eq!(out.verdict, Verdict::Fail);
        assert_eq!(
            out.evidence.summary,
            "stdout is \"hello world \", which does not contain 'bye'"
        );
        assert_eq!(out.evidence.detail["stdout"], "hello world\n");
    }

    #[tokio::test]
    async fn argv_is_not_interpreted_by_a_shell() {
        let out = run(&probe(&["echo", "$HOME;", "`id`"]), here(), true).await;
        assert_eq!(out.evidence.detail["stdout"], "$HOME; `id`\n");
    }

    #[tokio::test]
    async fn a_missing_program_or_folder_is_an_error() {
        let out = run(&probe(&["gonogo-no-such-program"]), here(), true).await;
        assert_eq!(out.verdict, Verdict::Error);
        assert_eq!(
            out.evidence.summary,
            "cannot run gonogo-no-such-program: no such program"
        );

        let mut p = probe(&["true"]);
        p.cwd = Some("no-such-folder".into());
        let out = run(&p, Path::new("/nonexistent-gonogo-test"), true).await;
        assert_eq!(
            out.evidence.summary,
            "working folder /nonexistent-gonogo-test/no-such-folder does not exist"
        );
    }

    #[tokio::test]
    async fn a_timeout_kills_the_program() {
        // An odd duration, so the process can be told apart from any other.
        let spec = ProbeSpec::Command(probe(&["sleep", "29.517"]));
        let ctx = ProbeContext {
            cluster: Arc::new(crate::cluster::NoCluster::UNCONFIGURED),
            allow_exec: true,
            base_dir: ".".into(),
        };
        let out = crate::probe::run(&spec, &ctx, Duration::from_millis(300)).await;
        assert_eq!(out.verdict, Verdict::Error);
        assert_eq!(out.evidence.summary, "timed out after 300ms");
        #[cfg(target_os = "linux")]
        {
            // The kill is sent on drop; give the kernel a moment to finish it.
            let mut alive = true;
            for _ in 0..100 {
                alive = sleeper_running();
                if !alive {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(!alive, "sleep 29.517 still runs after the timeout");
        }
    }

    /// Whether a live `sleep 29.517` exists (a zombie has no command line).
    #[cfg(target_os = "linux")]
    fn sleeper_running() -> bool {
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return false;
        };
        procs.flatten().any(|p| {
            std::fs::read(p.path().join("cmdline")).is_ok_and(|c| c == b"sleep\x0029.517\x00")
        })
    }
}
