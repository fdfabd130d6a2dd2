//! The command line: every command, its arguments and its help with an example.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "purl",
    version,
    about = "PURL Ledger: the system of record for the Prioritised Ukraine Requirements List",
    long_about = "PURL Ledger keeps Ukraine's prioritised requirements, the Allies' pledges and payments, \
packages and deliveries in a tamper-evident ledger. Every command run here acts as the installation \
operator and is recorded in the ledger as such.",
    after_help = "Start with:  purl init && purl demo && purl report overview"
)]
pub struct Cli {
    /// Folder of the installation (its SQLite database and keys).
    #[arg(
        long,
        global = true,
        env = "PURL_DATA_DIR",
        default_value = "./purl-data"
    )]
    pub data_dir: PathBuf,
    /// Database URL, overriding the SQLite file in the data folder (e.g. sqlite:///srv/purl.sqlite).
    #[arg(long, global = true, env = "PURL_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Output of read commands: a table for people, JSON for programs.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Makes a write safe to retry: a second run with the same key writes nothing and answers as
    /// the first did.
    #[arg(long, global = true)]
    pub idempotency_key: Option<String>,
    /// Refuses an update unless the record is still at this version (see `show`).
    #[arg(long, global = true)]
    pub expected_version: Option<u64>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new installation: the database, the reference participants and the checkpoint signing key.
    #[command(
        after_help = "Example:\n  purl --data-dir /srv/purl init --origin purl.nato.example/ledger"
    )]
    Init {
        /// The ledger's name in its checkpoints (C2SP origin); default: purl-ledger/<random id>.
        #[arg(long)]
        origin: Option<String>,
    },
    /// Write what you may see as a spreadsheet (.xlsx or .csv, by the file's extension) in the
    /// import's shape, or publish the open data.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Write an empty Excel template for an import: headers, formats, lists of allowed values, and a
    /// sheet explaining each column.
    #[command(after_help = "Example:\n  purl template pledges --output pledges.xlsx")]
    Template {
        #[arg(value_enum)]
        kind: TemplateKind,
        #[arg(long)]
        output: PathBuf,
    },
    /// Serve the JSON API (and its OpenAPI document at /api/v1/openapi.json).
    #[command(
        after_help = "Example:\n  purl serve\n  purl serve --bind 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem\n  purl serve --bind 127.0.0.1:8080 --secure-cookies   # behind a TLS-terminating reverse proxy"
    )]
    Serve(ServeArgs),
    /// Apply pending database migrations (PostgreSQL; SQLite migrates when opened).
    #[command(
        after_help = "Example:\n  PURL_DATABASE_URL=postgres://purl@db.internal/purl purl migrate"
    )]
    Migrate,
    /// A consistent copy of a SQLite installation's database while it is in use.
    #[command(
        after_help = "Example:\n  purl backup --output /backups/purl-2025-12-03.sqlite\nRestore by putting the file back as purl.sqlite beside the keys, then `purl verify`."
    )]
    Backup {
        #[arg(long)]
        output: PathBuf,
    },
    /// Write the whole installation (events as stored, checkpoints, verifier key) to a file.
    #[command(after_help = "Example:\n  purl export-db --output purl-export.jsonl")]
    ExportDb {
        #[arg(long)]
        output: PathBuf,
    },
    /// Load an export into an empty database (e.g. PostgreSQL), replaying and checking every event.
    #[command(
        after_help = "Example:\n  PURL_DATABASE_URL=postgres://purl@db.internal/purl purl --data-dir ./purl-data import-db purl-export.jsonl\nCopy ledger-signing.key and ledger-verifier.pub into the data folder too; then run `purl verify`."
    )]
    ImportDb { file: PathBuf },
    /// Load a realistic demo data set into a new installation (creating it if needed).
    #[command(after_help = "Example:\n  purl demo && purl report overview")]
    Demo,
    /// Check the whole ledger: every hash, every stored column, and the read side rebuilt from the events.
    #[command(
        after_help = "Example:\n  purl verify\nExits with status 1 and names each bad event or record if anything is wrong."
    )]
    Verify,
    /// NATO Allies, partners and organisations taking part.
    #[command(subcommand)]
    Participant(ParticipantCommand),
    /// Users of each participant and their roles.
    #[command(subcommand)]
    User(UserCommand),
    /// Items the supplier prices.
    #[command(subcommand)]
    Catalogue(CatalogueCommand),
    /// Requirement lists: drafting, priorities, three-party approval, versions.
    #[command(subcommand)]
    List(ListCommand),
    /// Pledges of money by Allies and partners.
    #[command(subcommand)]
    Pledge(PledgeCommand),
    /// Money received against pledges.
    #[command(subcommand)]
    Payment(PaymentCommand),
    /// Exchange rates to USD.
    #[command(subcommand)]
    Fx(FxCommand),
    /// Packages of approved requirements, their funding and status.
    #[command(subcommand)]
    Package(PackageCommand),
    /// Shipments of package lines and their receipt.
    #[command(subcommand)]
    Delivery(DeliveryCommand),
    /// Import a CSV file; a file with any error imports nothing.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Reports computed from the ledger.
    #[command(subcommand)]
    Report(ReportCommand),
    /// The key that signs checkpoints.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Signed checkpoints of the ledger's Merkle tree.
    #[command(subcommand)]
    Checkpoint(CheckpointCommand),
    /// Inclusion and consistency proofs.
    #[command(subcommand)]
    Proof(ProofCommand),
    /// Evidence bundles: a participant's own records with proofs, for its auditors.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Offline checks for auditors: need only the public key and files, no database, no network.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Fund a prioritised list from a file (what-if, offline), or generate a synthetic file.
    #[command(
        after_help = "Example:\n  purl allocate --input what-if.json --output allocation.json\n  purl allocate --generate --lines 100000 --funds 100 --seed 1 --output big.json\n\nInput (design §6): {\"currency\", \"requirements\": [{\"id\", \"rank\", \"category\", \"lethal\", \"unit_price\", \"quantity\"}],\n  \"funds\": [{\"id\", \"contributor\", \"amount\", \"categories\"?, \"lethal_allowed\"?}]}\nOutput: {\"lines\": [{\"id\", \"funded_quantity\", \"sources\": [{\"fund\", \"amount\"}], \"reason\"?}], \"funds\": [{\"id\", \"remaining\"}]}"
    )]
    Allocate(AllocateArgs),
}

#[derive(Debug, Args)]
pub struct AllocateArgs {
    /// The what-if file to allocate.
    #[arg(long, required_unless_present_any = ["generate", "live"], conflicts_with_all = ["generate", "live"])]
    pub input: Option<PathBuf>,
    /// Preview the allocation of the installation's approved list from the money received and not
    /// yet in a package (nothing is written).
    #[arg(long, conflicts_with = "generate")]
    pub live: bool,
    /// With --live: the list's period (default: the latest approved list).
    #[arg(long, requires = "live")]
    pub period: Option<String>,
    /// With --live: count committed money not yet received, at today's rate.
    #[arg(long, requires = "live")]
    pub include_committed: bool,
    /// With --live: record the allocation in the ledger (numbered; `purl allocate --live` alone
    /// writes nothing).
    #[arg(long, requires = "live")]
    pub commit: bool,
    /// Where to write the result (default: standard output).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Write a synthetic input file instead (needs --output).
    #[arg(long, requires = "output")]
    pub generate: bool,
    #[arg(long, default_value_t = 10_000)]
    pub lines: u64,
    #[arg(long, default_value_t = 100)]
    pub funds: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Print the checkpoint verifier key (give it to auditors).
    #[command(after_help = "Example:\n  purl key show-public > purl-ledger.pub")]
    ShowPublic,
}

#[derive(Debug, Subcommand)]
pub enum CheckpointCommand {
    /// Sign a checkpoint of the whole ledger now (writes also sign one every 1000 events or 5 minutes).
    #[command(after_help = "Example:\n  purl checkpoint create")]
    Create,
    /// List the signed checkpoints.
    #[command(after_help = "Example:\n  purl checkpoint list")]
    List,
    /// Print a checkpoint note (default: the latest), or write it to a file.
    #[command(after_help = "Example:\n  purl checkpoint show --output checkpoint-152.txt")]
    Show {
        /// Tree size of the checkpoint.
        #[arg(long)]
        size: Option<u64>,
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProofCommand {
    /// Prove that event SEQ is in the tree of SIZE events (default: the latest checkpoint).
    #[command(after_help = "Example:\n  purl proof inclusion --seq 42 --output proof-42.json")]
    Inclusion {
        #[arg(long)]
        seq: u64,
        #[arg(long)]
        size: Option<u64>,
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Prove that the tree of --to events extends the tree of --from events.
    #[command(
        after_help = "Example:\n  purl proof consistency --from 152 --to 160 --output consistency.json"
    )]
    Consistency {
        #[arg(long)]
        from: u64,
        #[arg(long)]
        to: Option<u64>,
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Export a participant's own events with their salts and inclusion proofs in a checkpoint.
    #[command(
        after_help = "Example:\n  purl evidence export --participant NLD --output nld-evidence.json"
    )]
    Export {
        #[arg(long)]
        participant: String,
        /// Tree size of the checkpoint (default: the latest).
        #[arg(long)]
        size: Option<u64>,
        #[arg(long)]
        output: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check a checkpoint's signature.
    #[command(
        after_help = "Example:\n  purl audit checkpoint --key purl-ledger.pub checkpoint-152.txt"
    )]
    Checkpoint {
        /// The verifier key, or a file holding it.
        #[arg(long)]
        key: String,
        checkpoint: PathBuf,
    },
    /// Check every record of an evidence bundle is in its signed checkpoint.
    #[command(
        after_help = "Example:\n  purl audit evidence --key purl-ledger.pub nld-evidence.json"
    )]
    Evidence {
        #[arg(long)]
        key: String,
        bundle: PathBuf,
    },
    /// Check that a newer checkpoint extends an older one.
    #[command(
        after_help = "Example:\n  purl audit consistency --key purl-ledger.pub --old checkpoint-152.txt --new checkpoint-160.txt --proof consistency.json"
    )]
    Consistency {
        #[arg(long)]
        key: String,
        #[arg(long)]
        old: PathBuf,
        #[arg(long)]
        new: PathBuf,
        #[arg(long)]
        proof: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ParticipantCommand {
    /// List every participant.
    #[command(after_help = "Example:\n  purl participant list --format json")]
    List,
    /// Show one participant.
    #[command(after_help = "Example:\n  purl participant show NLD")]
    Show { code: String },
    /// Add a participant (states come preloaded; this is for auditors, new partners, ...).
    #[command(
        after_help = "Example:\n  purl participant add --code NLD-AR --name 'Netherlands Court of Audit' --party auditor"
    )]
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// requester, coordinator, supplier, contributor or auditor.
        #[arg(long)]
        party: String,
        /// ISO 3166-1 alpha-2 code of a state, so imports may name it (e.g. JP).
        #[arg(long)]
        alpha2: Option<String>,
        /// A NATO Ally since this date (YYYY-MM-DD); otherwise a partner or organisation.
        #[arg(long)]
        ally_since: Option<String>,
        /// A state that is not an Ally.
        #[arg(long, conflicts_with = "ally_since")]
        partner: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateKind {
    Pledges,
    Payments,
    Fx,
    Gdp,
    Requirements,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Publish the open data: the public overview and the public pledges as JSON (with a JSON
    /// Schema each) and CSV, and a changelog entry per publication.
    #[command(after_help = "Example:\n  purl export public --output public/ --as-of 2025-12-03")]
    Public {
        #[arg(long)]
        output: PathBuf,
        /// The day the figures are for (default: today).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Every pledge, in the shape `purl import pledges` takes.
    #[command(after_help = "Example:\n  purl export pledges --output pledges.xlsx")]
    Pledges(ExportFile),
    /// Every payment, in the shape `purl import payments` takes.
    #[command(after_help = "Example:\n  purl export payments --output payments.csv")]
    Payments(ExportFile),
    /// Every exchange rate with its source, in the shape `purl import fx` takes.
    #[command(after_help = "Example:\n  purl export fx --output rates.xlsx")]
    Fx(ExportFile),
    /// Every GDP figure with its source, in the shape `purl import gdp` takes.
    #[command(after_help = "Example:\n  purl export gdp --output gdp.xlsx")]
    Gdp(ExportFile),
    /// The latest version of a requirement list, in the shape `purl import requirements` takes.
    #[command(
        after_help = "Example:\n  purl export requirements --period 2025-12 --output list.xlsx"
    )]
    Requirements {
        #[command(flatten)]
        file: ExportFile,
        #[arg(long)]
        period: String,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct ExportFile {
    /// The file to write: .xlsx for a workbook, .csv for a CSV file; never overwritten.
    #[arg(long)]
    pub output: PathBuf,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "PURL_BIND")]
    pub bind: std::net::SocketAddr,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, requires = "tls_key", env = "PURL_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, requires = "tls_cert", env = "PURL_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Mark session cookies Secure (when a TLS-terminating reverse proxy serves HTTPS; implied by
    /// --tls-cert).
    #[arg(long)]
    pub secure_cookies: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// List users.
    #[command(after_help = "Example:\n  purl user list")]
    List,
    /// Add a user to a participant with roles (viewer, editor, approver, admin); prints a
    /// one-time password to be changed at first sign-in.
    #[command(
        after_help = "Example:\n  purl user add --username olena --participant UKR --name 'Olena K.' --roles editor,approver"
    )]
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        participant: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "viewer")]
        roles: String,
    },
    /// Replace a user's roles.
    #[command(after_help = "Example:\n  purl user roles olena editor,approver,admin")]
    Roles { username: String, roles: String },
    /// Issue a new one-time password (also lifts a lockout); it must be changed at sign-in.
    #[command(after_help = "Example:\n  purl user reset-password olena")]
    ResetPassword { username: String },
    /// Stop a user from acting.
    #[command(after_help = "Example:\n  purl user deactivate olena")]
    Deactivate { username: String },
    /// Let a deactivated user act again.
    #[command(after_help = "Example:\n  purl user activate olena")]
    Activate { username: String },
}

#[derive(Debug, Subcommand)]
pub enum CatalogueCommand {
    /// List catalogue items.
    #[command(after_help = "Example:\n  purl catalogue list")]
    List,
    /// Add an item with its USD unit price.
    #[command(
        after_help = "Example:\n  purl catalogue add --code PAC-3-MSE --name 'Patriot PAC-3 MSE interceptor' --category air-defence --lethal --unit-price 3950000.00 --lead-time-days 540"
    )]
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        category: String,
        #[arg(long)]
        lethal: bool,
        /// USD, e.g. 3950000.00.
        #[arg(long)]
        unit_price: String,
        #[arg(long, default_value_t = 0)]
        lead_time_days: u32,
    },
    /// Change an item's price (and lead time).
    #[command(
        after_help = "Example:\n  purl catalogue price PAC-3-MSE --unit-price 4100000 --lead-time-days 600"
    )]
    Price {
        code: String,
        #[arg(long)]
        unit_price: String,
        #[arg(long)]
        lead_time_days: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ListCommand {
    /// List every requirement list with its versions.
    #[command(after_help = "Example:\n  purl list all")]
    All,
    /// Create the list of a period, with an empty draft version 1.
    #[command(after_help = "Example:\n  purl list create 2025-12")]
    Create { period: String },
    /// Show a version's lines in rank order (default: the latest version).
    #[command(after_help = "Example:\n  purl list show 2025-12 --version 2")]
    Show {
        period: String,
        #[arg(long)]
        version: Option<u32>,
    },
    /// Add a line to the draft version (at the end, or at --rank, moving later lines down).
    #[command(
        after_help = "Example:\n  purl list add-line 2025-12 --item PAC-3-MSE --quantity 40 --needed-by 2026-02-01 --rank 1 --justification 'Kyiv air defence'"
    )]
    AddLine {
        period: String,
        #[arg(long)]
        item: String,
        #[arg(long)]
        quantity: u64,
        #[arg(long)]
        needed_by: String,
        #[arg(long)]
        rank: Option<u32>,
        #[arg(long, default_value = "")]
        justification: String,
    },
    /// Change a draft line's quantity, date or justification.
    #[command(after_help = "Example:\n  purl list update-line 2025-12 L0003 --quantity 60")]
    UpdateLine {
        period: String,
        line: String,
        #[arg(long)]
        quantity: Option<u64>,
        #[arg(long)]
        needed_by: Option<String>,
        #[arg(long)]
        justification: Option<String>,
    },
    /// Give a draft line a new rank (priority); the others close up around it.
    #[command(after_help = "Example:\n  purl list move-line 2025-12 L0003 --rank 1")]
    MoveLine {
        period: String,
        line: String,
        #[arg(long)]
        rank: u32,
    },
    /// Remove a line from the draft version.
    #[command(after_help = "Example:\n  purl list remove-line 2025-12 L0003")]
    RemoveLine { period: String, line: String },
    /// Start a new draft version from the latest one (to change an approved list).
    #[command(after_help = "Example:\n  purl list new-version 2025-12")]
    NewVersion { period: String },
    /// Submit the draft version for approval.
    #[command(after_help = "Example:\n  purl list submit 2025-12")]
    Submit { period: String },
    /// Take a submitted version back to draft (its approvals are cleared).
    #[command(after_help = "Example:\n  purl list return 2025-12")]
    Return { period: String },
    /// Approve a submitted version on behalf of one party.
    #[command(after_help = "Example:\n  purl list approve 2025-12 --version 1 --as supplier")]
    Approve {
        period: String,
        #[arg(long)]
        version: u32,
        /// requester, coordinator or supplier.
        #[arg(long = "as")]
        party: String,
    },
    /// Show what changed between two versions, line by line.
    #[command(after_help = "Example:\n  purl list diff 2025-12 1 2")]
    Diff { period: String, from: u32, to: u32 },
}

#[derive(Debug, Args)]
pub struct PledgeFields {
    /// Your own unique reference for the pledge.
    #[arg(long)]
    pub reference: String,
    /// One or more ISO codes separated by ';' or ',' (DK;NO;SE or DNK;NOR;SWE).
    #[arg(long)]
    pub contributors: String,
    /// Omit when the amount is undisclosed or not yet fixed.
    #[arg(long)]
    pub amount: Option<String>,
    #[arg(long)]
    pub currency: Option<String>,
    #[arg(long)]
    pub announced_on: String,
    /// announced or committed.
    #[arg(long, default_value = "announced")]
    pub status: String,
    /// Reference of the joint pledge this one is a share of.
    #[arg(long)]
    pub part_of: Option<String>,
    /// Categories the money may pay for, separated by ';' (default: all).
    #[arg(long)]
    pub categories: Option<String>,
    /// The money may not pay for lethal items.
    #[arg(long)]
    pub non_lethal_only: bool,
    /// The one package this money is for.
    #[arg(long)]
    pub package: Option<u32>,
    #[arg(long, default_value = "")]
    pub conditions: String,
    /// The pledge was announced publicly and may be shown to the public.
    #[arg(long)]
    pub public: bool,
    #[arg(long, default_value = "")]
    pub note: String,
}

#[derive(Debug, Subcommand)]
pub enum PledgeCommand {
    /// List pledges.
    #[command(after_help = "Example:\n  purl pledge list --format json")]
    List,
    /// Show one pledge with its payments.
    #[command(after_help = "Example:\n  purl pledge show NLD-2025-08")]
    Show { reference: String },
    /// Record a pledge.
    #[command(
        after_help = "Example:\n  purl pledge add --reference DNK-NOR-SWE-1 --contributors 'DK;NO;SE' --amount 5000000000 --currency NOK --announced-on 2025-08-13 --status committed --public"
    )]
    Add(PledgeFields),
    /// Mark an announced pledge as committed.
    #[command(after_help = "Example:\n  purl pledge commit NLD-2025-08")]
    Commit { reference: String },
    /// Withdraw a pledge that has received no payment.
    #[command(after_help = "Example:\n  purl pledge withdraw NLD-2025-08")]
    Withdraw { reference: String },
    /// Flag a pledge as publicly announced (shown to the public).
    #[command(after_help = "Example:\n  purl pledge publish NLD-2025-08")]
    Publish { reference: String },
    /// Remove a pledge's public flag.
    #[command(after_help = "Example:\n  purl pledge unpublish NLD-2025-08")]
    Unpublish { reference: String },
    /// Fix the amount of a pledge whose amount was not yet set (or amend it).
    #[command(
        after_help = "Example:\n  purl pledge set-amount SVN-1 --amount 10000000 --currency EUR"
    )]
    SetAmount {
        reference: String,
        #[arg(long)]
        amount: String,
        #[arg(long)]
        currency: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PaymentCommand {
    /// List payments, optionally of one pledge.
    #[command(after_help = "Example:\n  purl payment list --pledge NLD-2025-08")]
    List {
        #[arg(long)]
        pledge: Option<String>,
    },
    /// Record money received against a committed pledge, in the pledge's currency.
    #[command(
        after_help = "Example:\n  purl payment add --pledge NLD-2025-08 --amount 250000000 --currency EUR --received-on 2025-09-01"
    )]
    Add {
        #[arg(long)]
        pledge: String,
        #[arg(long)]
        amount: String,
        #[arg(long)]
        currency: String,
        #[arg(long)]
        received_on: String,
        #[arg(long, default_value = "")]
        note: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum FxCommand {
    /// List recorded rates, optionally of one currency.
    #[command(after_help = "Example:\n  purl fx list --currency NOK")]
    List {
        #[arg(long)]
        currency: Option<String>,
    },
    /// Record one rate: how many USD one unit of the currency was worth on a date.
    #[command(
        after_help = "Example:\n  purl fx add --date 2025-12-01 --currency NOK --usd-per-unit 0.0987 --source 'Treasury reporting rates'"
    )]
    Add {
        #[arg(long)]
        date: String,
        #[arg(long)]
        currency: String,
        #[arg(long)]
        usd_per_unit: String,
        #[arg(long, default_value = "entered by the operator")]
        source: String,
    },
    /// Convert an amount to USD at the recorded rate of a date, showing the rate used.
    #[command(
        after_help = "Example:\n  purl fx convert --amount 5000000000 --currency NOK --date 2025-08-13"
    )]
    Convert {
        #[arg(long)]
        amount: String,
        #[arg(long)]
        currency: String,
        #[arg(long)]
        date: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PackageCommand {
    /// List packages.
    #[command(after_help = "Example:\n  purl package list")]
    List,
    /// Show a package: lines, contributions, history, deliveries.
    #[command(after_help = "Example:\n  purl package show 1")]
    Show { number: u32 },
    /// Create a new package (numbered in order), forming.
    #[command(after_help = "Example:\n  purl package create --name 'Patriot components'")]
    Create {
        #[arg(long)]
        name: String,
    },
    /// Take units of an approved list line into a forming package.
    #[command(
        after_help = "Example:\n  purl package add-line 1 --period 2025-12 --line L0001 --quantity 40"
    )]
    AddLine {
        number: u32,
        #[arg(long)]
        period: String,
        #[arg(long)]
        line: String,
        #[arg(long)]
        quantity: u64,
    },
    /// Allocate money of a committed pledge to a package, in the pledge's currency.
    #[command(
        after_help = "Example:\n  purl package fund 1 --pledge NLD-2025-08 --amount 500000000 --currency EUR"
    )]
    Fund {
        number: u32,
        #[arg(long)]
        pledge: String,
        #[arg(long)]
        amount: String,
        #[arg(long)]
        currency: String,
    },
    /// Form packages from a committed allocation (`purl allocate --live --commit`): its funded lines
    /// in rank order, up to a target value per package, each with the money the allocation gave it.
    #[command(
        after_help = "Example:\n  purl package form                       # from the latest allocation, USD 500 million per package\n  purl package form --allocation 2 --target-usd 250000000"
    )]
    Form {
        /// The committed allocation's number (default: the latest).
        #[arg(long)]
        allocation: Option<u32>,
        /// The most a package may be worth, in USD.
        #[arg(long, default_value = "500000000")]
        target_usd: String,
    },
    /// Move a package to its next status: funded, released, contracted, in-delivery, delivered, closed, or cancelled.
    #[command(after_help = "Example:\n  purl package status 1 funded")]
    Status { number: u32, status: String },
}

#[derive(Debug, Subcommand)]
pub enum DeliveryCommand {
    /// List deliveries, optionally of one package.
    #[command(after_help = "Example:\n  purl delivery list --package 1")]
    List {
        #[arg(long)]
        package: Option<u32>,
    },
    /// Record a shipment of units of a package line (the package must be contracted).
    #[command(
        after_help = "Example:\n  purl delivery ship --package 1 --line L0001 --quantity 20 --shipped-on 2026-01-15"
    )]
    Ship {
        #[arg(long)]
        package: u32,
        #[arg(long)]
        line: String,
        #[arg(long)]
        quantity: u64,
        #[arg(long)]
        shipped_on: String,
    },
    /// Confirm receipt of a shipment in Ukraine.
    #[command(
        after_help = "Example:\n  purl delivery receive DLV-000001 --received-on 2026-01-22 --quantity 20"
    )]
    Receive {
        id: String,
        #[arg(long)]
        received_on: String,
        #[arg(long)]
        quantity: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Pledges: reference,contributors,amount,currency,announced_on,status,part_of,categories,lethal_allowed,package,conditions,public,note
    #[command(
        after_help = "Example:\n  purl import pledges pledges.csv\n  purl import pledges pledges.xlsx --sheet Pledges\nRe-importing the same file changes nothing; a changed status or public flag is applied."
    )]
    Pledges(Source),
    /// Payments: pledge_reference,amount,currency,received_on,note
    #[command(after_help = "Example:\n  purl import payments payments.csv")]
    Payments(Source),
    /// Exchange rates: the ECB reference-rate CSV as published, or date,currency,usd_per_unit[,source]
    #[command(after_help = "Example:\n  purl import fx eurofxref-hist.csv")]
    Fx(Source),
    /// GDP per country per year (current US dollars), World Bank long shape: Country Code,Year,Value[,Source]
    #[command(
        after_help = "Example:\n  purl import gdp gdp-worldbank.csv\nAlso accepted: Country Name, Indicator Name and Indicator Code columns; an empty value or .. is skipped."
    )]
    Gdp(Source),
    /// A requirement list: rank,item_code,item_name,category,lethal,unit_price_usd,quantity,needed_by,justification
    #[command(after_help = "Example:\n  purl import requirements list.xlsx --period 2025-12")]
    Requirements {
        #[command(flatten)]
        source: Source,
        #[arg(long)]
        period: String,
    },
}

/// The file to import: CSV (UTF-8), or an Excel workbook (`.xlsx`) with the same columns.
#[derive(Debug, Clone, clap::Args)]
pub struct Source {
    pub file: PathBuf,
    /// The sheet of an .xlsx file to read (default: the first).
    #[arg(long)]
    pub sheet: Option<String>,
    /// Check the whole file and report every problem, writing nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Pledged, committed and paid totals in USD, Allies participating, packages by status.
    #[command(
        after_help = "Example:\n  purl report overview --as-of 2025-12-03 --format json\n  purl report overview --output overview.xlsx"
    )]
    Overview {
        /// The day the figures are for (default: today).
        #[arg(long)]
        as_of: Option<String>,
        /// Also write the report to this file (.xlsx, with the rates and sources behind it, or .csv).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Per contributor (joint pledges as joint): pledged, committed and paid in USD, share of the
    /// total, share of GDP and a fair share by GDP.
    #[command(
        after_help = "Example:\n  purl report contributions --as-of 2025-12-03\n  purl report contributions --output contributions.xlsx\nGDP figures come from `purl import gdp`; the latest year up to the as-of date is used."
    )]
    Contributions {
        /// The day the figures are for (default: today).
        #[arg(long)]
        as_of: Option<String>,
        /// Also write the report to this file (.xlsx, with the GDP and sources behind it, or .csv).
        #[arg(long)]
        output: Option<PathBuf>,
    },
}
