//! The OS signals claimsmith acts on, read as one channel of [`Control`]s: Ctrl-C (SIGINT) and
//! SIGTERM ask for a [`Control::Shutdown`], SIGHUP for a [`Control::Reload`] (a rescan of the
//! script folders). SIGTERM and SIGHUP exist on Unix only; elsewhere only Ctrl-C is heard.
//!
//! The server learns of a shutdown through [`shutdown`], the future `main` hands to
//! `server::run` (tests hand it their own); the reload task reads the reloads itself
//! (`reload::Reloader`), so a server started by a test rescans on SIGHUP as `serve` does. This
//! module does not decide what a control does: its consumers do.

/// What a signal asks of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Stop accepting, finish in-flight requests, stop (Ctrl-C, SIGTERM).
    Shutdown,
    /// Rescan the script folders now (SIGHUP).
    Reload,
}

#[cfg(unix)]
use tokio::signal::unix::{Signal, SignalKind, signal};

/// The signals behind the controls asked for. Listening to a signal replaces its default action
/// (SIGHUP's and SIGINT's is to end the process), so nothing is listened to that no one reads.
pub struct Signals {
    #[cfg(unix)]
    interrupt: Option<Signal>,
    #[cfg(not(unix))]
    interrupt: bool,
    #[cfg(unix)]
    terminate: Option<Signal>,
    #[cfg(unix)]
    hangup: Option<Signal>,
}

impl Signals {
    /// Listens for the signals behind `controls`. A signal that cannot be listened to is never
    /// heard (as if never sent), rather than an error: the server runs on without it.
    pub fn listen(controls: &[Control]) -> Signals {
        let shutdown = controls.contains(&Control::Shutdown);
        #[cfg(unix)]
        {
            let on = |wanted: bool, kind: SignalKind| wanted.then(|| signal(kind).ok()).flatten();
            Signals {
                interrupt: on(shutdown, SignalKind::interrupt()),
                terminate: on(shutdown, SignalKind::terminate()),
                hangup: on(controls.contains(&Control::Reload), SignalKind::hangup()),
            }
        }
        #[cfg(not(unix))]
        Signals {
            interrupt: shutdown,
        }
    }

    /// The next control a signal asks for; pending forever when none of them can arrive.
    pub async fn recv(&mut self) -> Control {
        #[cfg(unix)]
        {
            tokio::select! {
                () = next(&mut self.interrupt) => {
                    tracing::info!("Ctrl-C received, shutting down");
                    Control::Shutdown
                }
                () = next(&mut self.terminate) => {
                    tracing::info!("SIGTERM received, shutting down");
                    Control::Shutdown
                }
                () = next(&mut self.hangup) => Control::Reload,
            }
        }
        #[cfg(not(unix))]
        {
            if self.interrupt && tokio::signal::ctrl_c().await.is_ok() {
                tracing::info!("Ctrl-C received, shutting down");
                return Control::Shutdown;
            }
            self.interrupt = false;
            std::future::pending().await
        }
    }
}

/// The next delivery of `s`; pending forever once it has closed, or when it was never opened.
#[cfg(unix)]
async fn next(s: &mut Option<Signal>) {
    let delivered = match s {
        Some(sig) => sig.recv().await.is_some(),
        None => false,
    };
    if !delivered {
        *s = None;
        std::future::pending::<()>().await;
    }
}

/// Resolves at the first Ctrl-C or SIGTERM: the production shutdown future for `server::run`.
pub async fn shutdown() {
    let mut signals = Signals::listen(&[Control::Shutdown]);
    while signals.recv().await != Control::Shutdown {}
}

#[cfg(all(test, unix))]
mod tests {
    use std::time::Duration;

    use super::{Control, Signals};

    fn send(signal: &str) {
        let pid = std::process::id().to_string();
        let sent = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
    }

    /// Sends `signal` to this process and waits for `want` (other tests of this process may send
    /// signals of their own, which are skipped).
    async fn hear(signals: &mut Signals, signal: &str, want: Control) {
        send(signal);
        let heard = tokio::time::timeout(Duration::from_secs(10), async {
            while signals.recv().await != want {}
        });
        assert!(heard.await.is_ok(), "{signal} not heard as {want:?}");
    }

    /// The listener is in place before the signal goes out, so neither signal's default action
    /// (ending the process) can run.
    #[tokio::test]
    async fn sighup_is_a_reload_and_sigterm_a_shutdown() {
        let mut signals = Signals::listen(&[Control::Shutdown, Control::Reload]);
        hear(&mut signals, "-HUP", Control::Reload).await;
        hear(&mut signals, "-TERM", Control::Shutdown).await;
    }
}
