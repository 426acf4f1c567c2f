fn main() {
    std::process::exit(knock_rotator::main());
}
