public import ArgumentParser
import Glibc

/// The `jobctl` command: the operator's command line for BullMQ queues.
public struct Jobctl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "jobctl",
        abstract: "Inspect and operate BullMQ job queues stored in Redis or PostgreSQL.",
        discussion: """
            jobctl reads BullMQ's own data layout, so it works on queues made by any \
            BullMQ client. Read-only commands never write to the server.

            CONNECTION
            The server comes from --url, else JOBCTL_URL, else REDIS_URL or \
            DATABASE_URL (not both), else libpq's PGHOST, PGHOSTADDR, PGDATABASE \
            or PGSERVICE (PostgreSQL with libpq's defaults), else \
            redis://127.0.0.1:6379/0. The URL's scheme chooses the backend:
              redis://[user:password@]host[:port][/db]
              rediss://… (TLS; the certificate and host name are checked)
              unix:///path/to/redis.sock[?db=N]
                  BullMQ's keys under --prefix (default bull); TLS settings
                  as redis-py names them: ?ssl_ca_certs=FILE, ssl_ca_path,
                  ssl_certfile, ssl_keyfile, ssl_cert_reqs=none,
                  ssl_check_hostname=false (or --tls-ca, --tls-cert,
                  --tls-key, --tls-insecure)
              postgres[ql]://[user[:password]@]host[:port]/db[?sslmode=…]
                  BullMQ's tables in --schema (default bullmq); every libpq
                  setting passes through (sslmode, sslrootcert, …), and
                  PGPASSWORD, PGSSLMODE and ~/.pgpass apply

            Put passwords in JOBCTL_URL, PGPASSWORD or ~/.pgpass rather than on \
            the command line, where other users can see them. Every global option \
            has a JOBCTL_* environment variable: JOBCTL_PREFIX, JOBCTL_SCHEMA, \
            JOBCTL_OUTPUT, JOBCTL_CONNECT_TIMEOUT, JOBCTL_TIMEOUT.

            """ + "\n" + ExitStatus.helpText,
        version: JobctlVersion.current,
        subcommands: [
            Status.self, Stats.self, Workers.self, Jobs.self, Show.self, Retry.self, Drain.self, Clean.self,
            Promote.self, Pause.self,
            Resume.self, Remove.self, Add.self, Schedulers.self, Schedule.self, Unschedule.self, RunOnce.self, Run.self,
            Tune.self, Trail.self,
        ]
    )

    public init() {}
}

/// The version printed by `jobctl --version`.
public enum JobctlVersion {
    public static let current = "0.1.0"
}

extension Jobctl {
    /// Parses the command line, runs the command and exits; the one call the executable makes.
    public static func run() async {
        // A peer that closes first (a pipe reader, a TLS server: OpenSSL writes with plain write()) is an EPIPE to
        // handle, not a signal that kills the process. Handlers get SIGPIPE back at their default (ExecHandler).
        signal(SIGPIPE, SIG_IGN)
        await main(Watch.normalized(Array(CommandLine.arguments.dropFirst())))
    }
}
