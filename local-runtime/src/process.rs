//! Running the function binary against a [`RuntimeApi`].

use std::io::{self, Write};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::api::Shared;
use crate::RuntimeApi;

/// How long `stop` waits for the output readers to drain after the process has exited. The
/// pipes close when the process dies, so this only matters if the function left a child
/// process holding them open.
const OUTPUT_DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// Where the function's stdout and stderr go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Both streams are inherited, so the function writes straight to ours.
    Inherit,
    /// Both streams are copied line by line, unchanged, to our stderr. A tool that prints
    /// results on stdout uses this to keep them apart from the function's logs.
    Stderr,
    /// Both streams are kept in memory; read them with [`FunctionProcess::captured_output`].
    Capture,
    /// Both streams are discarded.
    Null,
}

/// Which of the function's streams a captured line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The function's standard output.
    Stdout,
    /// The function's standard error.
    Stderr,
}

/// One line the function wrote, without its line ending. Bytes that are not UTF-8 are
/// replaced, since log lines are text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLine {
    /// The stream it was written to.
    pub stream: Stream,
    /// The line.
    pub line: String,
}

type ExitResult = Result<ExitStatus, String>;

/// A running function binary.
///
/// The process is killed when this is dropped, so a failing test cannot leave it behind.
pub struct FunctionProcess {
    pid: Option<u32>,
    started_at: Instant,
    /// Dropping or sending on this kills the process.
    kill: Option<oneshot::Sender<()>>,
    exit: watch::Receiver<Option<ExitResult>>,
    readers: Vec<JoinHandle<()>>,
    captured: Arc<Mutex<Vec<OutputLine>>>,
}

impl std::fmt::Debug for FunctionProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionProcess")
            .field("pid", &self.pid)
            .field("started_at", &self.started_at)
            .finish_non_exhaustive()
    }
}

impl FunctionProcess {
    /// Starts `binary` as the function served by `api`.
    ///
    /// The process inherits our environment (so `PATH`, `RUST_LOG` or endpoint overrides reach
    /// it), then gets the variables Lambda sets for a custom runtime, then `env`, which may
    /// override any of them. Starting a process also resets the API's record of the previous
    /// process: its init error, its exit and its first poll.
    ///
    /// When the process exits, every invocation it has not answered fails with
    /// [`crate::InvocationError::Exited`], and later ones fail the same way until another
    /// process is started.
    pub fn spawn(
        binary: &Path,
        api: &RuntimeApi,
        env: &[(String, String)],
        output: Output,
    ) -> io::Result<Self> {
        let shared = Arc::clone(api.shared());
        let function_name = shared.function_name().to_owned();
        let mut command = Command::new(binary);
        command
            .env("AWS_LAMBDA_RUNTIME_API", api.address().to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &function_name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function_name}"),
            )
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2024/01/01/[$LATEST]00000000000000000000000000000000",
            )
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("_HANDLER", "bootstrap")
            .envs(env.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let (stdout, stderr) = match output {
            Output::Inherit => (Stdio::inherit(), Stdio::inherit()),
            Output::Null => (Stdio::null(), Stdio::null()),
            Output::Stderr | Output::Capture => (Stdio::piped(), Stdio::piped()),
        };
        command.stdout(stdout).stderr(stderr);

        let generation = shared.begin_process();
        let started_at = Instant::now();
        let mut child = command.spawn()?;
        let pid = child.id();

        let captured = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        if let Some(pipe) = child.stdout.take() {
            readers.push(spawn_reader(pipe, Stream::Stdout, output, &captured));
        }
        if let Some(pipe) = child.stderr.take() {
            readers.push(spawn_reader(pipe, Stream::Stderr, output, &captured));
        }

        let (kill, kill_rx) = oneshot::channel();
        let (exit_tx, exit) = watch::channel(None);
        tokio::spawn(watch_process(child, kill_rx, exit_tx, shared, generation));

        Ok(Self {
            pid,
            started_at,
            kill: Some(kill),
            exit,
            readers,
            captured,
        })
    }

    /// The process ID, if the OS reported one.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// When the process was started, just before the `spawn` system call.
    pub fn started_at(&self) -> Instant {
        self.started_at
    }

    /// How the process ended, if it has.
    pub fn try_exit_status(&self) -> Option<io::Result<ExitStatus>> {
        self.exit.borrow().clone().map(into_io)
    }

    /// Waits for the process to end on its own and returns how it ended.
    pub async fn exited(&self) -> io::Result<ExitStatus> {
        let mut exit = self.exit.clone();
        let status = match exit.wait_for(Option::is_some).await {
            Ok(status) => status.clone(),
            Err(_) => None,
        };
        status.map_or_else(
            || Err(io::Error::other("the process watcher stopped")),
            into_io,
        )
    }

    /// Kills the process (as Lambda does when it retires a sandbox), waits for it to end and for
    /// its output to be read, and returns how it ended. If it had already exited, that status is
    /// returned instead.
    pub async fn stop(mut self) -> io::Result<ExitStatus> {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        let status = self.exited().await;
        for reader in self.readers.drain(..) {
            let _ = tokio::time::timeout(OUTPUT_DRAIN_TIMEOUT, reader).await;
        }
        status
    }

    /// The lines captured so far with [`Output::Capture`], in the order they were read (each
    /// stream is in order; the interleaving of the two is approximate). Empty for other modes.
    pub fn captured_output(&self) -> Vec<OutputLine> {
        self.captured
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn into_io(exit: ExitResult) -> io::Result<ExitStatus> {
    exit.map_err(io::Error::other)
}

/// Owns the child: waits for it to exit or kills it when asked (or when the
/// [`FunctionProcess`] is dropped), then tells the API and the `FunctionProcess`.
async fn watch_process(
    mut child: Child,
    kill: oneshot::Receiver<()>,
    exit: watch::Sender<Option<ExitResult>>,
    shared: Arc<Shared>,
    generation: u64,
) {
    let status = tokio::select! {
        status = child.wait() => status,
        _ = kill => {
            let _ = child.start_kill();
            child.wait().await
        }
    };
    let status = status.map_err(|error| format!("could not wait for the process: {error}"));
    let description = match &status {
        Ok(status) => status.to_string(),
        Err(error) => error.clone(),
    };
    shared.process_exited(generation, description);
    exit.send_replace(Some(status));
}

/// Reads one of the function's streams line by line until it closes.
fn spawn_reader(
    pipe: impl AsyncRead + Unpin + Send + 'static,
    stream: Stream,
    output: Output,
    captured: &Arc<Mutex<Vec<OutputLine>>>,
) -> JoinHandle<()> {
    let captured = Arc::clone(captured);
    tokio::spawn(async move {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            if output == Output::Capture {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\n', '\r']).to_owned();
                captured
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(OutputLine { stream, line: text });
            } else {
                // Whole lines in one write under the lock, so lines from the two streams (and
                // from our own messages) do not interleave mid-line. A failed write to our own
                // stderr has nowhere to be reported.
                let mut stderr = io::stderr().lock();
                let _ = stderr.write_all(&line);
                if !line.ends_with(b"\n") {
                    let _ = stderr.write_all(b"\n");
                }
            }
        }
    })
}
