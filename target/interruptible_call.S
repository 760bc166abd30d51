// long myst_interruptible_syscall(long number, const long arguments[6],
//                                 const uint8_t* interrupted)
//
// A host system call that may wait, made so that an interrupt can never be
// lost: if *interrupted is set, or becomes set by the entry's interrupt
// handler at any point before the syscall instruction has started, the call
// returns -EINTR without waiting. The handler sets the flag and, when the
// interrupted instruction lies in [myst_wait_begin, myst_wait_end), moves it
// to myst_wait_cancelled (musl's pthread cancellation uses the same idea).
// Once the syscall has started, the host itself ends the wait with EINTR.
    .text
    .globl myst_interruptible_syscall
    .type myst_interruptible_syscall, @function
myst_interruptible_syscall:
    mov %rdi, %rax
    mov %rsi, %rcx
    mov %rdx, %r11
    test %r11, %r11
    jnz 1f
    lea never_interrupted(%rip), %r11
1:  mov 0(%rcx), %rdi
    mov 8(%rcx), %rsi
    mov 16(%rcx), %rdx
    mov 24(%rcx), %r10
    mov 32(%rcx), %r8
    mov 40(%rcx), %r9
    .globl myst_wait_begin
myst_wait_begin:
    cmpb $0, (%r11)
    jne myst_wait_cancelled
    syscall
    .globl myst_wait_end
myst_wait_end:
    ret
    .globl myst_wait_cancelled
myst_wait_cancelled:
    mov $-4, %rax              // -EINTR
    ret
    .size myst_interruptible_syscall, .-myst_interruptible_syscall

    .section .rodata
never_interrupted:
    .byte 0

    .section .note.GNU-stack, "", @progbits
