fn main() -> std::process::ExitCode {
    zen_draft::cli::main()
}
