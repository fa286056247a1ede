//! Runs the provider simulator until Ctrl-C.
//!
//! Usage: `indoxrouter-simulator [--port N] [--api-key KEY]`

use std::io::Write as _;
use std::process::ExitCode;

use indoxrouter_simulator::{SimConfig, Simulator};

const USAGE: &str = "usage: indoxrouter-simulator [--port N] [--api-key KEY]";

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<SimConfig, String> {
    let mut config = SimConfig::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--port" => {
                let port = value()?;
                config.port = port
                    .parse()
                    .map_err(|_| format!("--port needs a port number, got '{port}'"))?;
            }
            "--api-key" => config.api_key = Some(value()?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument '{other}'\n{USAGE}")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let simulator = match Simulator::start_with(config).await {
        Ok(simulator) => simulator,
        Err(e) => {
            eprintln!("could not start the simulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Registered before announcing readiness, so a script that sends SIGINT
    // as soon as it reads the line below can't beat the handler.
    let interrupted = match interrupted() {
        Ok(interrupted) => interrupted,
        Err(e) => {
            eprintln!("could not listen for Ctrl-C: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Scripts wait for this line to know the server is up, so flush it now
    // rather than when the buffer fills.
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on {}", simulator.root_url());
    let _ = stdout.flush();
    interrupted.await;
    ExitCode::SUCCESS
}

#[cfg(unix)]
fn interrupted() -> std::io::Result<impl Future<Output = ()>> {
    let mut signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    Ok(async move {
        signal.recv().await;
    })
}

#[cfg(not(unix))]
fn interrupted() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_flags() {
        let config = parse_args(args(&["--port", "8080", "--api-key=sk-1"])).unwrap();
        assert_eq!(config.port, 8080);
        assert_eq!(config.api_key.as_deref(), Some("sk-1"));
        assert_eq!(parse_args(args(&[])).unwrap(), SimConfig::default());
        assert!(parse_args(args(&["--port"])).is_err());
        assert!(parse_args(args(&["--port", "x"])).is_err());
        assert!(parse_args(args(&["--bogus"])).is_err());
    }
}
