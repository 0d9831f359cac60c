import JobctlCLI

@main
enum Entrypoint {
    static func main() async {
        await Jobctl.run()
    }
}
