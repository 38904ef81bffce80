fn main() -> std::process::ExitCode {
    marelle::cli::main()
}
