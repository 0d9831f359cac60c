import JobCore
import PostgresBackend
import Testing

@Suite struct PostgresEndpointTests {
    @Test func urlIsParsedByLibpqAndPrintedWithoutThePassword() throws {
        let endpoint = try PostgresEndpoint(
            url: "postgresql://ops:s3cret-pw@db.internal:5433/queues?sslmode=require&application_name=x")
        #expect(endpoint.hasPassword)
        #expect(endpoint.hostDescription == "db.internal:5433")
        #expect(endpoint.databaseName == "queues")
        #expect(endpoint.redactedURL == "postgresql://ops@db.internal:5433/queues?sslmode=require")
        #expect(!endpoint.redactedURL.contains("s3cret"))
        let plain = try PostgresEndpoint(url: "postgres://127.0.0.1/app")
        #expect(!plain.hasPassword)
        #expect(plain.redactedURL.hasSuffix("127.0.0.1:5432/app"))
    }

    @Test(arguments: [
        "mysql://u:s3cret-pw@h/db", "postgresql://u:s3cret-pw@h/db?no_such_setting=1",
        "postgresql://u:s3cret-pw@[::1/db",
        "postgres//u:s3cret-pw@h/db", "postgresql://u:s3cret-pw@h/db?sslmode=require&sslmode",
    ])
    func malformedURLsAreUsageErrorsWithoutThePassword(_ url: String) {
        #expect {
            _ = try PostgresEndpoint(url: url)
        } throws: { error in
            guard let error = error as? PostgresURLError else { return false }
            return error.kind == .usage && !error.description.contains("s3cret")
                && !error.hints.joined().contains("s3cret")
        }
    }

    @Test func schemaNamesFollowBullMQsRule() throws {
        for name in ["bullmq", "_x$1", "Queues_2", String(repeating: "a", count: 63)] {
            #expect(try SchemaName(name).name == name)
        }
        for name in ["", "1abc", "a-b", "a;drop schema x", "a\"b", "ümlaut", String(repeating: "a", count: 64), "$a"] {
            #expect(throws: InvalidSchemaNameError.self) { try SchemaName(name) }
        }
    }
}
