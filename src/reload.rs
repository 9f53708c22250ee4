//! Hot reload of `actions/` and `rules/`: the only module that names notify.
//!
//! notify's debouncer calls back on its own thread once a path has been quiet for the debounce
//! time; the callback only `try_send`s into a bounded(1) channel, which coalesces bursts. The
//! reload task then rebuilds the whole set with [`load_scripts`] (a broken file keeps its last
//! good version; one that never loaded is named in the set, and the pipeline decides what that
//! does to logins), publishes it with one `send_replace` when anything changed, and asks the engine
//! to warm the new set off the login path. SIGHUP forces a rescan. A folder that does not exist yet
//! is watched through its parent and picked up when it appears.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer_opt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::script::{LoadError, ScriptEngine, ScriptSet, load_scripts};
use crate::signals::{Control, Signals};

/// The folders scripts are read from.
#[derive(Debug, Clone)]
pub struct Folders {
    pub actions: PathBuf,
    pub rules: PathBuf,
}

impl Folders {
    /// Reads both folders into a set of the given version, keeping last-good versions from `previous`.
    pub fn load(&self, previous: Option<&ScriptSet>, version: u64) -> ScriptSet {
        load_scripts(&self.actions, &self.rules, previous, version)
    }
}

/// How often the polling fallback looks at the folders.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How far a file's modification time may lag behind the moment it was written.
const MTIME_SLACK: Duration = Duration::from_millis(25);

/// The running reload task; stopping it (or dropping it) stops the watcher too.
pub struct Reloader {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Reloader {
    /// Starts watching. `scripts` is published to; `engine` warms each new set.
    pub fn start(
        folders: Folders,
        debounce: Duration,
        poll: bool,
        scripts: watch::Sender<Arc<ScriptSet>>,
        engine: Arc<ScriptEngine>,
    ) -> Reloader {
        let (stop, stopped) = oneshot::channel();
        // The watch is in place before `start` returns, and one rescan follows it: a change made
        // between the first load and the watch is not missed.
        let (wake_tx, wake) = mpsc::channel::<()>(1);
        let mut watch = Watch::new(debounce, poll, wake_tx.clone());
        watch.refresh(&folders);
        let _ = wake_tx.try_send(());
        let task = tokio::spawn(run(
            Task {
                folders,
                debounce,
                scripts,
                engine,
                watch,
                wake_tx,
            },
            wake,
            stopped,
        ));
        Reloader {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops the task and waits for it.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Reloader {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// The file watcher: the OS's (inotify) when it can be had, else polling (the OS may refuse
/// another inotify instance: the default limit is 128 per user).
enum Backend {
    Native(Debouncer<IgnoreReads<notify::RecommendedWatcher>>),
    Poll(Debouncer<IgnoreReads<notify::PollWatcher>>),
}

/// A watcher that drops `Access` events (a file or folder opened, read, closed unwritten).
///
/// notify's inotify backend reports opens, and a rescan opens every folder and file it reads: left
/// in, each rescan's own reads woke the next one a debounce later, so an idle server reread and
/// recompiled every script for ever (and picked up, by accident, changes the watcher cannot see).
/// A write still shows as `Modify`, a new, renamed or deleted file as `Create`/`Modify`/`Remove`.
struct IgnoreReads<W>(W);

impl<W: notify::Watcher> notify::Watcher for IgnoreReads<W> {
    fn new<F: notify::EventHandler>(
        mut handler: F,
        config: notify::Config,
    ) -> notify::Result<Self> {
        let only_changes = move |r: notify::Result<notify::Event>| {
            if !r.as_ref().is_ok_and(is_read) {
                handler.handle_event(r);
            }
        };
        W::new(only_changes, config).map(IgnoreReads)
    }

    fn watch(&mut self, path: &Path, mode: RecursiveMode) -> notify::Result<()> {
        self.0.watch(path, mode)
    }

    fn unwatch(&mut self, path: &Path) -> notify::Result<()> {
        self.0.unwatch(path)
    }

    fn kind() -> notify::WatcherKind {
        W::kind()
    }
}

/// An open, a read, or a close without a write.
fn is_read(e: &notify::Event) -> bool {
    matches!(e.kind, EventKind::Access(a) if a != AccessKind::Close(AccessMode::Write))
}

impl Backend {
    fn watcher(&mut self) -> &mut dyn notify::Watcher {
        match self {
            Backend::Native(d) => d.watcher(),
            Backend::Poll(d) => d.watcher(),
        }
    }
}

/// The watcher and what it currently watches.
struct Watch {
    debouncer: Option<Backend>,
    watched: HashSet<PathBuf>,
}

impl Watch {
    fn new(debounce: Duration, poll: bool, wake: mpsc::Sender<()>) -> Watch {
        let handler = move |r: DebounceEventResult| {
            if let Err(e) = &r {
                tracing::warn!(error = %e, "script folder watch error");
            }
            // Full means a reload is already pending: this change is covered by it.
            let _ = wake.try_send(());
        };
        let config = notify_debouncer_mini::Config::default().with_timeout(debounce);
        let native = if poll {
            None
        } else {
            match new_debouncer_opt::<_, IgnoreReads<notify::RecommendedWatcher>>(
                config.clone(),
                handler.clone(),
            ) {
                Ok(d) => Some(Backend::Native(d)),
                Err(e) => {
                    tracing::warn!(error = %e, "no native file watcher; polling the script folders instead");
                    None
                }
            }
        };
        let debouncer = native.or_else(|| {
            // notify's poller compares whole-second times: compare contents too, or a
            // rewrite within the same second goes unseen.
            let poll = notify::Config::default()
                .with_poll_interval(POLL_INTERVAL)
                .with_compare_contents(true);
            new_debouncer_opt::<_, IgnoreReads<notify::PollWatcher>>(config.with_notify_config(poll), handler)
                .map(Backend::Poll)
                .map_err(|e| {
                    tracing::error!(error = %e, "cannot watch the script folders; hot reload is off (SIGHUP still rescans)")
                })
                .ok()
        });
        Watch {
            debouncer,
            watched: HashSet::new(),
        }
    }

    /// Watches each folder, or its nearest existing ancestor until the folder exists (then the
    /// ancestor is dropped again, so that unrelated files beside it wake nothing).
    fn refresh(&mut self, folders: &Folders) {
        let Some(d) = self.debouncer.as_mut() else {
            return;
        };
        let needed: HashSet<PathBuf> = [&folders.actions, &folders.rules]
            .into_iter()
            .map(|dir| nearest_existing(dir))
            .collect();
        for stale in self.watched.difference(&needed) {
            let _ = d.watcher().unwatch(stale);
        }
        // Watching again is cheap, and renews the watch of a folder that was removed and made again.
        for target in &needed {
            // A folder's subfolders hold the local modules its scripts require.
            let mode = if *target == folders.actions || *target == folders.rules {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            if let Err(e) = d.watcher().watch(target, mode) {
                tracing::warn!(path = %target.display(), error = %e, "cannot watch");
            }
        }
        self.watched = needed;
    }
}

fn nearest_existing(dir: &Path) -> PathBuf {
    let mut p = dir.to_path_buf();
    while !p.is_dir() {
        match p.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => p = parent.to_path_buf(),
            _ => return PathBuf::from("."),
        }
    }
    p
}

/// What the reload task owns.
struct Task {
    folders: Folders,
    debounce: Duration,
    scripts: watch::Sender<Arc<ScriptSet>>,
    engine: Arc<ScriptEngine>,
    watch: Watch,
    /// Keeps the wake channel open even when no watcher could be made (SIGHUP still works).
    wake_tx: mpsc::Sender<()>,
}

async fn run(mut t: Task, mut wake: mpsc::Receiver<()>, mut stopped: oneshot::Receiver<()>) {
    // Reload only: the shutdown is the server's to hear, and reaches this task through `stopped`.
    let mut signals = Signals::listen(&[Control::Reload]);
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            w = wake.recv() => if w.is_none() { break },
            c = signals.recv() => match c {
                Control::Reload => tracing::info!("SIGHUP: rescanning the script folders"),
                Control::Shutdown => break,
            },
        }
        t.watch.refresh(&t.folders);
        rescan(&t.folders, t.debounce, &t.scripts, &t.engine).await;
    }
    drop(t.wake_tx);
}

/// How long ago the most recent change in either folder happened (a file written, or the folder's
/// entries changed by a rename or a delete); `None` when nothing can be read.
fn quiet_for(folders: &Folders) -> Option<Duration> {
    let mut youngest: Option<Duration> = None;
    for dir in [&folders.actions, &folders.rules] {
        let mut paths = vec![dir.clone()];
        while let Some(path) = paths.pop() {
            let meta = std::fs::metadata(&path);
            // Subfolders hold local modules (`node_modules` is not watched); symlinked ones are
            // not followed (a link to an ancestor would never end).
            let real_dir =
                path == *dir || std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
            if real_dir
                && meta.as_ref().is_ok_and(|m| m.is_dir())
                && path.file_name().is_none_or(|n| n != "node_modules")
            {
                let entries = std::fs::read_dir(&path).into_iter().flatten().flatten();
                paths.extend(entries.map(|e| e.path()));
            }
            let age = meta
                .and_then(|m| m.modified())
                .ok()
                .map(|t| t.elapsed().unwrap_or_default());
            youngest = match (youngest, age) {
                (Some(y), Some(a)) => Some(y.min(a)),
                (y, a) => y.or(a),
            };
        }
    }
    youngest
}

/// Rebuilds the set off the async workers and publishes it if anything changed.
///
/// Files written within one debounce period of each other publish together: the folders must
/// have been quiet (by modification time, not only by events) for the debounce period before they
/// are read, and a change made while reading them starts the read again. So a pair of scripts
/// saved together never serves half old, half new, and neither does a file written in chunks.
async fn rescan(
    folders: &Folders,
    debounce: Duration,
    scripts: &watch::Sender<Arc<ScriptSet>>,
    engine: &Arc<ScriptEngine>,
) {
    let previous = scripts.borrow().clone();
    let next = loop {
        while let Some(age) = quiet_for(folders).filter(|age| *age < debounce) {
            tokio::time::sleep(debounce - age).await;
        }
        let (f, prev) = (folders.clone(), previous.clone());
        let started = std::time::Instant::now();
        let loaded =
            tokio::task::spawn_blocking(move || f.load(Some(&prev), prev.version + 1)).await;
        let next = match loaded {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "script reload failed; keeping the current scripts");
                return;
            }
        };
        // File times come from the kernel's coarse clock, up to a tick behind: a margin keeps
        // a write made while reading from passing for an older one.
        if quiet_for(folders).is_none_or(|age| age >= started.elapsed() + MTIME_SLACK) {
            break next;
        }
    };
    log_new_errors(&previous.errors, &next.errors);
    if same_scripts(&previous, &next) {
        if previous.errors != next.errors {
            // Only the list of errors changed: publish it (for /healthz) under the same version.
            let same = ScriptSet {
                version: previous.version,
                rules: previous.rules.clone(),
                actions: previous.actions.clone(),
                ..next
            };
            scripts.send_replace(Arc::new(same));
        }
        return;
    }
    let next = Arc::new(next);
    tracing::info!(
        version = next.version,
        rules = next.rules.len(),
        actions = next.actions.len(),
        errors = next.errors.len(),
        "scripts reloaded"
    );
    scripts.send_replace(next.clone());
    engine.prepare(next);
}

/// Logs each load error once: when it first appears.
pub fn log_new_errors(before: &[LoadError], now: &[LoadError]) {
    for e in now.iter().filter(|e| !before.contains(e)) {
        tracing::error!(file = %e.path.display(), line = e.line, column = e.column, message = %e.message, "script not loaded");
    }
}

fn same_scripts(a: &ScriptSet, b: &ScriptSet) -> bool {
    let key = |s: &ScriptSet| -> Vec<(String, String, PathBuf)> {
        s.rules
            .iter()
            .chain(&s.actions)
            .map(|x| (x.name.to_string(), x.hash.clone(), x.path.clone()))
            .collect()
    };
    // A local module the scripts require counts as theirs.
    key(a) == key(b) && a.modules.local == b.modules.local
}

#[cfg(test)]
mod tests {
    use super::is_read;
    use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RemoveKind};
    use notify::{Event, EventKind};

    #[test]
    fn the_reloads_own_reads_wake_nothing_and_every_change_does() {
        let reads = [
            AccessKind::Open(AccessMode::Any),
            AccessKind::Read,
            AccessKind::Close(AccessMode::Read),
            AccessKind::Any,
        ];
        for a in reads {
            assert!(is_read(&Event::new(EventKind::Access(a))), "{a:?}");
        }
        let changes = [
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Any),
            EventKind::Remove(RemoveKind::File),
            EventKind::Any,
        ];
        for c in changes {
            assert!(!is_read(&Event::new(c)), "{c:?}");
        }
    }
}
