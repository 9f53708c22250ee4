//! The `claimsmith` binary: parses the command line, sets up logging, and either runs the server
//! or one administrative command.

use std::sync::Arc;

use anyhow::Context as _;
use claimsmith::cli::{Cli, Command};
use claimsmith::clock::Clock;
use claimsmith::config::{Config, LogFormat};
use claimsmith::{admin, bootstrap, demo, output, server, signals};
use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Typings = cli.command {
        #[allow(clippy::print_stdout)] // Needs no store and no configuration.
        let () = print!("{}", claimsmith::typings::declarations());
        return Ok(());
    }
    let config = Config::load(cli.config.as_deref(), &cli.overrides())?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("CLAIMSMITH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A log that can no longer be written (the reader of stderr went away) must not take the
    // server down: tracing-subscriber would report it with eprintln!, which panics on EPIPE.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .log_internal_errors(false);
    match config.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Human => logs.init(),
    }
    let clock = Clock::system();
    let columns = output::list_columns(&cli.command);
    let output = match cli.command {
        Command::Serve(s) => return serve(config, clock, s.demo),
        Command::Test(t) => std::process::exit(claimsmith::dev::test(&config, &t, cli.json)?),
        cmd => {
            let store = bootstrap::open_store(&config, &clock)?;
            match cmd {
                Command::Users(c) => admin::users(&store, &config, &clock, c),
                Command::Clients(c) => admin::clients(&store, &config, &clock, c),
                Command::Apis(c) => admin::apis(&store, &clock, c),
                Command::Roles(c) => admin::roles(&store, c),
                Command::Orgs(c) => admin::orgs(&store, &clock, c),
                Command::Connections(c) => admin::connections(&store, &clock, c),
                Command::Keys(c) => admin::keys(&store, &config, &clock, c),
                Command::Logins(c) => admin::logins(&store, c),
                Command::Serve(_) | Command::Test(_) | Command::Typings => {
                    unreachable!("handled above")
                }
            }?
        }
    };
    #[allow(clippy::print_stdout)] // The CLI's output is this document, or its table.
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        print!("{}", output::render(&output, columns));
    }
    Ok(())
}

#[tokio::main]
async fn serve(config: Config, clock: Clock, seed_demo: bool) -> anyhow::Result<()> {
    let tls = match &config.tls {
        Some((cert, key)) => Some(server::tls_acceptor(cert, key)?),
        None => None,
    };
    let mut config = config;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    config.bound_to(listener.local_addr()?);
    if seed_demo {
        demo::write_samples(&config).context("cannot write the sample scripts")?;
    }
    let state = tokio::task::spawn_blocking(move || bootstrap::app_state(config, clock)).await??;
    if seed_demo {
        let d = demo::seed(&state.store, &state.config, &state.clock)?;
        #[allow(clippy::print_stdout)] // The demo's credentials are for the person at the terminal.
        {
            println!(
                "\nDemo seeded. Get a token for {} with:\n\n{}\n",
                demo::EMAIL,
                demo::curl(&d, &state.config)
            );
        }
    }
    tracing::info!(listen = %listener.local_addr()?, issuer = %state.config.issuer, "claimsmith serving");
    server::run(listener, Arc::new(state), tls, signals::shutdown()).await;
    Ok(())
}
