//! Proves the wallet crates build without std: this crate is `#![no_std]`, brings its own panic
//! handler and allocator, and references every wallet crate (an unreferenced dependency would
//! never be loaded, so a std leak in it would pass unnoticed).
#![no_std]
#![deny(unused_crate_dependencies)]

use wallet_kek as _;
use wallet_pss as _;
use wallet_sss as _;
use wallet_tss as _;
use wallet_types as _;

use core::alloc::{GlobalAlloc, Layout};

struct NoAlloc;

// SAFETY: returning null is how `GlobalAlloc` reports a failed allocation; this library is only
// compiled, never run.
unsafe impl GlobalAlloc for NoAlloc {
    unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
        core::ptr::null_mut()
    }
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static ALLOC: NoAlloc = NoAlloc;

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
