//! The command line of DESIGN §2.

use clap::{Args, Parser, Subcommand};

use crate::app::{Application, prepare_database};
use crate::config::Config;
use crate::domain::account::{Role, is_valid_email, normalize_email, password_problem};
use crate::store::api_keys;
use crate::store::users::{self, CreateUserError, UserSpec};

#[derive(Debug, Parser)]
#[command(name = "qualead", version, about = "Qualead: a CPA network in one binary")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations, then serve (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Settle the leads whose hold has ended: every run settles all that are due.
    /// Without `--once`, keep running every QUALEAD_SETTLE_INTERVAL_SECS (a settlement
    /// worker beside the servers); several may run at once.
    Settle {
        /// One run, print what it decided, exit.
        #[arg(long)]
        once: bool,
    },
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Fill an empty database with a demo marketplace (accounts, offers, a month of
    /// clicks, leads in every state, disputes, payouts) and print the logins.
    Demo {
        /// How many clicks to spread over the last 30 days.
        #[arg(long, default_value_t = crate::demo::DEFAULT_CLICKS)]
        clicks: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an active, verified account.
    Create(CreateUser),
    /// Create an API key for an existing account (a demo login, say) and print it on stdout.
    ApiKey {
        #[arg(long)]
        email: String,
        /// What the key is for, shown in the account's list of keys.
        #[arg(long, default_value = "created from the command line")]
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct CreateUser {
    #[arg(long, value_parser = ["advertiser", "publisher", "admin"])]
    pub role: String,
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub password: String,
    /// Also create an API key and print it on stdout.
    #[arg(long)]
    pub api_key: bool,
    /// Display name (defaults to the part of the e-mail before the @).
    #[arg(long)]
    pub name: Option<String>,
}

/// Run a parsed command line.
pub async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Application::build(config).await?.run_until_stopped().await,
        Command::Migrate => {
            tokio::task::spawn_blocking(move || prepare_database(&config)).await??;
            println!("migrations applied");
            Ok(())
        }
        Command::Settle { once } => settle(config, once).await,
        Command::Demo { clicks } => {
            let report = tokio::task::spawn_blocking(move || crate::demo::run(&config, clicks)).await??;
            print!("{report}");
            Ok(())
        }
        Command::User(UserCommand::Create(args)) => {
            let key = tokio::task::spawn_blocking(move || create_user(&config, args)).await??;
            if let Some(key) = key {
                println!("{key}");
            }
            Ok(())
        }
        Command::User(UserCommand::ApiKey { email, name }) => {
            let key = tokio::task::spawn_blocking(move || create_api_key(&config, &email, &name)).await??;
            println!("{key}");
            Ok(())
        }
    }
}

async fn settle(config: Config, once: bool) -> anyhow::Result<()> {
    let config = std::sync::Arc::new(config);
    let c = config.clone();
    let pool = tokio::task::spawn_blocking(move || prepare_database(&c)).await??;
    loop {
        let p = pool.clone();
        let s = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut conn = p.get()?;
            Ok(crate::settlement::run::settle_due(&mut conn, crate::store::now(), crate::settlement::run::BATCH)?)
        })
        .await??;
        let leads = crate::i18n::count_words(s.settled(), "lead");
        println!("settled {leads}: {} approved, {} rejected", s.approved, s.rejected);
        if once {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(config.settle_interval_secs)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

fn create_user(config: &Config, args: CreateUser) -> anyhow::Result<Option<String>> {
    let role: Role = args.role.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let email = normalize_email(&args.email);
    anyhow::ensure!(is_valid_email(&email), "--email: {:?} is not a valid e-mail address", args.email);
    if let Some(problem) = password_problem(&args.password, &email) {
        anyhow::bail!("--password: {problem}");
    }
    let name = args.name.unwrap_or_else(|| email.split('@').next().unwrap_or("user").to_string());
    let hash = crate::crypto::hash_password(&args.password)?;
    let pool = prepare_database(config)?;
    let mut conn = pool.get()?;
    conn.write_tx(|conn| {
        let user = users::create(conn, UserSpec::active(&email, &hash, role, &name)).map_err(|e| match e {
            CreateUserError::EmailTaken => anyhow::anyhow!("--email: an account with {email} already exists"),
            CreateUserError::Db(e) => e.into(),
        })?;
        eprintln!("created {} account #{} <{}>", role, user.id, user.email);
        if args.api_key {
            let (key, _) = api_keys::create(conn, user.id, "created from the command line")?;
            return Ok(Some(key));
        }
        Ok(None)
    })
}

fn create_api_key(config: &Config, email: &str, name: &str) -> anyhow::Result<String> {
    let email = normalize_email(email);
    let name = name.trim();
    anyhow::ensure!(
        !name.is_empty() && name.chars().count() <= 80 && crate::domain::text::one_line_problem(name).is_none(),
        "--name: use 1 to 80 characters on one line"
    );
    let pool = prepare_database(config)?;
    let mut conn = pool.get()?;
    conn.write_tx(|conn| {
        let user =
            users::find_by_email(conn, &email)?.ok_or_else(|| anyhow::anyhow!("--email: no account with {email}"))?;
        let (key, _) = api_keys::create(conn, user.id, name)?;
        eprintln!("created an API key for {} account #{} <{}>", user.role, user.id, user.email);
        Ok(key)
    })
}
