import ArgumentParser
import JobCore

struct Workers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "List the workers connected to the queues: which client, where from, for how long, how idle.",
        usage: "jobctl workers [<options>] [<queues> ...]",
        discussion: """
            Workers are found as BullMQ's getWorkers() finds them: by the names their connections carry \
            (Redis CLIENT LIST; PostgreSQL pg_stat_activity.application_name), '<prefix>:<queue>' with \
            ':w:<name>' for a named worker. The Node client writes the queue name in base64, the Python client \
            as it is; jobctl's workers name one connection each way, so both clients' tools list them. CLIENT \
            tells them apart: node, python, or jobctl (a worker named both ways, or with jobctl's default name \
            jobctl-HOST-PID).

            A named worker is one row, however many connections it has; workers without a name cannot be told \
            apart and are grouped by host. CONNECTED is the age of the oldest connection, IDLE the time since \
            any of them last did something. A server that refuses CLIENT LIST (an ACL user without \
            +client|list, some hosted Redis) makes this command fail with exit status 1.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Queues whose workers to list (default: every queue).")
    var queues: [String] = []

    func run() async throws {
        try await Terminal.reportingErrors {
            let inspector = try await global.connect()
            let known = Set(try await inspector.discoverQueues()).union(queues)
            var workers = try await inspector.connectedWorkers(knownQueues: known)
            if !queues.isEmpty {
                let wanted = Set(queues)
                workers = workers.filter { wanted.contains($0.queue) }
                // A queue with workers but no jobs yet exists as far as they are concerned.
                for queue in queues where !workers.contains(where: { $0.queue == queue }) {
                    try await inspector.requireQueue(queue)
                }
            }
            show(workers, location: inspector.location)
        }
    }

    private func show(_ workers: [ConnectedWorker], location: String) {
        switch global.format {
        case .json:
            let document = JSONValue.object([
                ("location", .string(location)), ("workers", .array(workers.map(Self.shape))),
            ])
            Terminal.write(document.prettyText + "\n")
        case .jsonl:
            Terminal.write(workers.map { Self.shape($0).compactText + "\n" }.joined())
        case .text:
            guard !workers.isEmpty else {
                let scope =
                    queues.isEmpty ? "" : " to " + queues.map { "'\(Cell.oneLine($0))'" }.joined(separator: ", ")
                Terminal.writeError("no worker is connected\(scope) at \(location)\n")
                return
            }
            var table = TextTable([
                ("QUEUE", .left), ("NAME", .left), ("CLIENT", .left), ("CONNS", .right), ("ADDRESS", .left),
                ("CONNECTED", .left), ("IDLE", .left),
            ])
            for worker in workers {
                let address = worker.addresses.first.map {
                    worker.addresses.count > 1 ? "\($0) +\(worker.addresses.count - 1)" : $0
                }
                table.append([
                    Cell.oneLine(worker.queue), worker.name.map { Cell.oneLine($0) } ?? "(unnamed)",
                    worker.client.rawValue, String(worker.connections), address ?? "-",
                    worker.connectedForMs.map { DurationText.describe(milliseconds: $0) } ?? "-",
                    worker.idleForMs.map { DurationText.describe(milliseconds: $0) } ?? "-",
                ])
            }
            Terminal.write(table.render())
        }
    }

    static func shape(_ worker: ConnectedWorker) -> JSONValue {
        .object([
            ("queue", .string(worker.queue)),
            ("name", worker.name.map(JSONValue.string) ?? .null),
            ("client", .string(worker.client.rawValue)),
            ("connections", .int(Int64(worker.connections))),
            ("addresses", .array(worker.addresses.map(JSONValue.string))),
            ("connectedForMs", .optionalInt(worker.connectedForMs)),
            ("idleForMs", .optionalInt(worker.idleForMs)),
        ])
    }
}
