fn main() {
    std::process::exit(knock_rotator::main());
}

/// A static musl executable cannot load anything, so musl's own `dlsym`
/// can only say "not found", as this does; std asks it for optional
/// symbols. Musl's reports its refusal with a formatted message, which
/// links printf (10 KB, 2 % of a mips executable whose limit is 512 KiB).
#[cfg(all(target_env = "musl", target_os = "linux"))]
#[unsafe(no_mangle)]
pub extern "C" fn dlsym(
    _handle: *mut core::ffi::c_void,
    _name: *const core::ffi::c_char,
) -> *mut core::ffi::c_void {
    core::ptr::null_mut()
}
