import FoundationEssentials
public import JobCore

/// A BullMQ schema name, validated as BullMQ validates it and quoted for SQL.
public struct SchemaName: Sendable, Equatable, CustomStringConvertible {
    public let name: String

    /// Accepts what BullMQ accepts: a letter or `_`, then letters, digits, `_` or `$`; at most 63 bytes.
    public init(_ name: String) throws(InvalidSchemaNameError) {
        let valid =
            !name.isEmpty && name.utf8.count <= 63
            && name.unicodeScalars.enumerated().allSatisfy { index, scalar in
                scalar.isASCII
                    && (scalar.properties.isAlphabetic || scalar == "_"
                        || (index > 0 && (("0"..."9").contains(scalar) || scalar == "$")))
            }
        guard valid else { throw InvalidSchemaNameError(name: name) }
        self.name = name
    }

    /// The name as a quoted SQL identifier (BullMQ quotes it too, so case matters).
    var quoted: String { "\"" + name.replacing("\"", with: "\"\"") + "\"" }

    public var description: String { name }
}

public struct InvalidSchemaNameError: OperatorFacingError {
    public var name: String
    public var kind: FailureKind { .usage }
    public var description: String { "invalid --schema '\(name)'" }
    public var hints: [String] {
        ["BullMQ schema names start with a letter or '_' and hold only letters, digits, '_' and '$' (at most 63)"]
    }
}

/// The versions of BullMQ's migration ledger this jobctl reads: the four migrations of the schema BullMQ's
/// Python client 3.4.4 installs (tables, functions, dedup fix, relay tables).
public enum SupportedSchema {
    public static let versions = 1...4
}

/// The schema is not there at all.
public struct SchemaNotFoundError: OperatorFacingError {
    public var schema: String
    public var location: String
    /// Schemas of the same database that look like BullMQ schemas.
    public var otherSchemas: [String]
    /// The schema exists but holds no BullMQ migration ledger.
    public var existsWithoutLedger: Bool

    public var kind: FailureKind { .failure }
    public var description: String {
        existsWithoutLedger
            ? "schema '\(schema)' at \(location) is not a BullMQ schema: it has no migration ledger "
                + "(\(schema).migration)"
            : "schema '\(schema)' not found at \(location)"
    }
    public var hints: [String] {
        var lines: [String] = []
        if !otherSchemas.isEmpty {
            lines.append(
                "BullMQ schemas in this database: " + otherSchemas.map { "'\($0)'" }.joined(separator: ", ")
                    + " (pass --schema NAME)")
        }
        lines.append(
            "BullMQ creates its schema on first use: start a BullMQ Queue or Worker with backend 'postgres' (and")
        lines.append(
            "schema '\(schema)') against this database, or run its migrations (Python: bullmq's run_migrations; Node: "
                + "runMigrations)"
        )
        return lines
    }
}

/// The migration ledger holds a version this jobctl does not know.
public struct UnsupportedSchemaVersionError: OperatorFacingError {
    public var schema: String
    public var version: Int
    public var kind: FailureKind { .failure }
    public var description: String {
        "schema '\(schema)' is at BullMQ migration version \(version); this jobctl reads versions "
            + "\(SupportedSchema.versions.lowerBound)–\(SupportedSchema.versions.upperBound)"
    }
    public var hints: [String] {
        version > SupportedSchema.versions.upperBound
            ? [
                "the schema was migrated by a newer BullMQ; upgrade jobctl to a release that supports version "
                    + "\(version)"
            ]
            : [
                "the ledger is empty or incomplete: let a BullMQ client finish the migrations (it runs them on first "
                    + "use)"
            ]
    }
}

extension PostgresClient {
    /// Checks that the schema exists and its ledger holds a supported version; returns that version and the
    /// planner's estimate of the rows in its job table (-1 before the table was first analyzed).
    func checkSchema(_ schema: SchemaName, location: String) throws -> (version: Int, estimatedJobs: Double) {
        let found = try query(
            """
            SELECT to_regnamespace($1) IS NOT NULL,
                   to_regclass(format('%I.migration', $1)) IS NOT NULL,
                   to_regclass(format('%I.job', $1)) IS NOT NULL,
                   (SELECT c.reltuples FROM pg_catalog.pg_class c WHERE c.oid = to_regclass(format('%I.job', $1)))
            """, [schema.name])
        let flags = found.rows.first ?? []
        guard flags.count == 4, flags[1] == "t", flags[2] == "t" else {
            // From the catalog only: to_regclass would fail on schemas this user may not use (pg_toast, …).
            let others = try query(
                """
                SELECT n.nspname FROM pg_catalog.pg_namespace n
                 WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
                   AND has_schema_privilege(n.oid, 'USAGE')
                   AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                                WHERE c.relnamespace = n.oid AND c.relname = 'migration')
                   AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid AND c.relname = 'job')
                 ORDER BY 1
                """)
            throw SchemaNotFoundError(
                schema: schema.name, location: location, otherSchemas: others.rows.compactMap { $0.first ?? nil },
                existsWithoutLedger: flags.first == "t")
        }
        let ledger = try query("SELECT coalesce(max(version), 0) FROM \(schema.quoted).migration")
        guard let text = ledger.scalar, let version = Int(text) else {
            throw PostgresError(
                code: .unexpectedReply, server: endpoint.hostDescription,
                message: "cannot read \(schema.name).migration")
        }
        guard SupportedSchema.versions.contains(version) else {
            throw UnsupportedSchemaVersionError(schema: schema.name, version: version)
        }
        return (version, flags[3].flatMap { Double($0) } ?? -1)
    }
}
