import Testing

@testable import JobCore

struct ConnectedWorkersTests {
    static func connection(
        _ name: String, _ address: String? = "10.0.0.7:5000", age: Int64 = 60_000, idle: Int64 = 0
    )
        -> ClientConnection
    {
        ClientConnection(name: name, address: address, connectedForMs: age, idleForMs: idle)
    }

    static func workers(
        _ connections: [ClientConnection], known: Set<String> = ["mail"], node: Bool = true
    )
        -> [ConnectedWorker]
    {
        WorkerDirectory.workers(from: connections, namespace: "bull", knownQueues: known, nodeNaming: node)
    }

    @Test func base64MatchesNodeAndRefusesWhatIsNotCanonical() {
        #expect(Base64.encode("mail") == "bWFpbA==")
        #expect(Base64.encode("pdf-notes") == "cGRmLW5vdGVz")
        #expect(Base64.encode("é") == "w6k=")
        for text in ["", "a", "ab", "abc", "mail", "pdf-notes", "é", "{mail}"] where !text.isEmpty {
            #expect(Base64.decodeText(Base64.encode(text)) == text)
        }
        for bad in ["", "bWFpbA=", "bWFp bA==", "bW=pbA==", "bWFpbB==", "/w==", "mail"] {
            #expect(Base64.decodeText(bad) == nil, "\(bad)")
        }
    }

    @Test func eachClientsNamingIsRead() {
        let rows = Self.workers([
            Self.connection("bull:mail:w:py-one"), Self.connection("bull:mail:w:py-one", "10.0.0.7:5001"),
            Self.connection("bull:bWFpbA==:w:node-one", "10.0.0.8:6000"),
            Self.connection("bull:mail:w:ours", "10.0.0.9:1"), Self.connection("bull:bWFpbA==:w:ours", "10.0.0.9:2"),
            Self.connection("bull:mail:w:jobctl-box-42", "10.0.0.9:3"),
        ])
        #expect(rows.map(\.name) == ["jobctl-box-42", "node-one", "ours", "py-one"])
        #expect(rows.map(\.client) == [.jobctl, .node, .jobctl, .python])
        #expect(rows.allSatisfy { $0.queue == "mail" })
        #expect(rows[3].connections == 2 && rows[3].addresses == ["10.0.0.7:5000", "10.0.0.7:5001"])
    }

    @Test func unnamedWorkersGroupByHostAndOtherNamesAreNotWorkers() throws {
        let rows = Self.workers([
            Self.connection("bull:mail", "10.0.0.7:1", age: 5_000, idle: 4_000),
            Self.connection("bull:mail", "10.0.0.7:2", age: 9_000, idle: 1_000),
            Self.connection("bull:mail", "[::1]:3"), Self.connection("bull:bWFpbA==:qe"),
            Self.connection("bull:mail:w:"), Self.connection("other:mail:w:x"), Self.connection("bull:"),
            Self.connection("jobctl"),
        ])
        #expect(rows.count == 2, "\(rows)")
        #expect(rows.allSatisfy { $0.name == nil && $0.client == .python })
        let first = try #require(rows.first { $0.addresses.first == "10.0.0.7:1" })
        #expect(first.connections == 2 && first.connectedForMs == 9_000 && first.idleForMs == 1_000)
        #expect(WorkerDirectory.counts(rows) == ["mail": 2])
    }

    @Test func knownQueuesSettleNamesThatReadBothWays() {
        // "abcd" is base64 of bytes that are not text: Python's naming of a queue not known.
        #expect(
            WorkerDirectory.parse("bull:abcd", namespace: "bull", knownQueues: [], nodeNaming: true)?.style == .python)
        // "bWFpbA==" read as Node's unless a queue of that very name exists.
        #expect(
            WorkerDirectory.parse("bull:bWFpbA==", namespace: "bull", knownQueues: [], nodeNaming: true)?.queue
                == "mail")
        let literal = WorkerDirectory.parse(
            "bull:bWFpbA==", namespace: "bull", knownQueues: ["bWFpbA=="], nodeNaming: true)
        #expect(literal?.queue == "bWFpbA==" && literal?.style == .python)
        // PostgreSQL has Python's naming only.
        #expect(
            WorkerDirectory.parse("bull:bWFpbA==", namespace: "bull", knownQueues: [], nodeNaming: false)?.queue
                == "bWFpbA==")
        #expect(WorkerDirectory.host(of: "[::1]:6379") == "::1" && WorkerDirectory.host(of: "10.1.2.3:1") == "10.1.2.3")
    }

    @Test func workerNamesAreCheckedAndNamedAsTheClientsDo() {
        #expect(WorkerIdentity.problem(withName: "py-one") == nil)
        #expect(WorkerIdentity.problem(withName: "") != nil)
        #expect(WorkerIdentity.problem(withName: "two words")?.contains("' '") == true)
        #expect(WorkerIdentity.problem(withName: "tab\there")?.contains("control") == true)
        #expect(WorkerIdentity.problem(withName: String(repeating: "x", count: 101)) != nil)
        #expect(WorkerIdentity.defaultName(host: "box one.local", pid: 42) == "jobctl-box-one.local-42")
        let identity = WorkerIdentity(queue: "mail", name: "w1")
        #expect(identity.pythonStyleName(namespace: "bull") == "bull:mail:w:w1")
        #expect(identity.nodeStyleName(namespace: "bull") == "bull:bWFpbA==:w:w1")
        #expect(!WorkerIdentity(queue: "two words", name: "w1").pythonStyleNameIsValid(namespace: "bull"))
    }

    @Test func theWorkerCountShapesTheAdviceAndTheRule() throws {
        let rules = try HealthCheck(parsing: "workers>=1")
        let counts = JobCounts()
        #expect(rules.failures(.init(counts: counts, isPaused: false, oldestWaitMs: nil, workers: 0)).count == 1)
        #expect(rules.failures(.init(counts: counts, isPaused: false, oldestWaitMs: nil, workers: 1)).isEmpty)
        #expect(
            rules.failures(.init(counts: counts, isPaused: false, oldestWaitMs: nil))
                == [HealthCheck.Failure(rule: "workers>=1", found: "unknown")])
    }
}
