//! The process's allocator, able to count what it holds: RSS mixes in what the allocator keeps
//! for reuse and (in `bench --kube`) the fake API server beside the console, so the figures of
//! what the console itself keeps are read from here. Counting is off unless a benchmark turns
//! it on: the console pays one relaxed load of a flag per allocation, nothing more.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

pub struct Counting(pub mimalloc::MiMalloc);

static ON: AtomicBool = AtomicBool::new(false);
static NET: AtomicIsize = AtomicIsize::new(0);

/// Starts counting (benchmarks).
pub fn count() {
    ON.store(true, Ordering::Relaxed);
}

/// Bytes allocated minus bytes freed since counting started: only differences between two
/// readings mean something (a block allocated before is subtracted when freed).
pub fn net_bytes() -> isize {
    NET.load(Ordering::Relaxed)
}

fn add(n: usize) {
    if ON.load(Ordering::Relaxed) {
        NET.fetch_add(n as isize, Ordering::Relaxed);
    }
}

fn sub(n: usize) {
    if ON.load(Ordering::Relaxed) {
        NET.fetch_sub(n as isize, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded to mimalloc unchanged; only a counter is updated beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { self.0.alloc(layout) };
        if !p.is_null() {
            add(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { self.0.dealloc(ptr, layout) };
        sub(layout.size());
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { self.0.alloc_zeroed(layout) };
        if !p.is_null() {
            add(layout.size());
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            add(new_size);
            sub(layout.size());
        }
        p
    }
}
