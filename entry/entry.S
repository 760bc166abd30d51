// Syscall entry and program enter/leave. See entry.h for the model and the
// EntryState field offsets used here.
#define STATE_KERNEL_FS 0
#define STATE_PROGRAM_FS 8
#define STATE_SELECTOR 16
#define STATE_FS_SWITCH 17
#define STATE_INTERRUPTED 18
#define STATE_KERNEL_SP 32
#define STATE_MXCSR 40
#define STATE_FPU_CONTROL 44
// ucontext_t: uc_stack.ss_sp and ss_flags (the thread's alternate signal stack)
#define UCONTEXT_STACK_SP 16
#define UCONTEXT_STACK_FLAGS 24
#define UCONTEXT_RIP 168           // uc_mcontext.gregs[REG_RIP]
#define SS_DISABLE 2
#define SYS_ARCH_PRCTL 158
#define ARCH_SET_FS 0x1002

// SET_FS_FROM base, field: FS base := field(base) through arch_prctl; the
// selector must be ALLOW. Clobbers rax, rcx, rdx, rsi, rdi, r11.
.macro SET_FS_FROM base, field
    mov \field(\base), %rsi
    mov $ARCH_SET_FS, %edi
    mov $SYS_ARCH_PRCTL, %eax
    syscall
.endm

// INTERRUPT_IN_KERNEL: the interrupt arrived while this thread ran kernel
// code (rax = EntryState or 0, rdx = ucontext): flag it, and if the thread
// was about to start a host wait (target/interruptible_call.S), skip it.
.macro INTERRUPT_IN_KERNEL
    test %rax, %rax
    jz 9f
    movb $1, STATE_INTERRUPTED(%rax)
    mov UCONTEXT_RIP(%rdx), %rsi
    lea myst_wait_begin(%rip), %rcx
    cmp %rcx, %rsi
    jb 9f
    lea myst_wait_end(%rip), %rcx
    cmp %rcx, %rsi
    jae 9f
    lea myst_wait_cancelled(%rip), %rcx
    mov %rcx, UCONTEXT_RIP(%rdx)
9:  ret
.endm

// The always-allowed range: syscalls whose next instruction lies here are not
// dispatched. Only the sigreturn that ends the SIGSYS handler is in it.
    .section .text.myst_allowed, "ax", @progbits
    .globl myst_allowed_begin
myst_allowed_begin:
    .globl myst_sigreturn_trampoline
myst_sigreturn_trampoline:
    mov $15, %eax          // SYS_rt_sigreturn
    syscall
    ud2
    .globl myst_allowed_end
myst_allowed_end:

    .text
    .globl myst_entry_text_begin
myst_entry_text_begin:
// SIGSYS handler: rdi = signal, rsi = siginfo, rdx = ucontext. Runs on the
// kernel's signal stack with the program's FS base and the selector at BLOCK.
// The dispatcher gets the EntryState as its fourth argument (rcx).
    .globl myst_sigsys_entry
    .type myst_sigsys_entry, @function
myst_sigsys_entry:
    rdgsbase %rax
    rdfsbase %rcx
    mov %rcx, STATE_PROGRAM_FS(%rax)
    mov STATE_KERNEL_FS(%rax), %rcx
    wrfsbase %rcx
    movb $0, STATE_SELECTOR(%rax)
    push %rax                  // keeps the stack 16-byte aligned for the call
    mov %rax, %rcx
    call myst_sigsys_dispatch
    pop %rax
    mov STATE_PROGRAM_FS(%rax), %rcx
    wrfsbase %rcx
    movb $1, STATE_SELECTOR(%rax)
    ret                        // to sa_restorer: myst_sigreturn_trampoline
    .size myst_sigsys_entry, .-myst_sigsys_entry

// ENTER_WITH_ARCH_PRCTL dispatch: the arch_prctl form of the two entries
// below. rax = EntryState, with the selector at BLOCK and the program's FS.
.macro ENTER_WITH_ARCH_PRCTL dispatch
    movb $0, STATE_SELECTOR(%rax)   // ALLOW first: arch_prctl is a syscall
    push %rax                  // the state; keeps the stack 16-byte aligned
    push %rdi
    push %rsi
    push %rdx
    SET_FS_FROM %rax, STATE_KERNEL_FS
    pop %rdx
    pop %rsi
    pop %rdi
    mov (%rsp), %rcx
    call \dispatch
    mov (%rsp), %rax
    SET_FS_FROM %rax, STATE_PROGRAM_FS
    pop %rax
    movb $1, STATE_SELECTOR(%rax)
    ret
.endm

// JUMP_IF_IN_ENTRY_CODE label: the interrupted instruction (rdx =
// ucontext) is the entry's own code or the sigreturn trampoline, which run
// with the selector at BLOCK for a few instructions on the way in and out:
// that is kernel code, not the program's. Clobbers rcx, rsi.
.macro JUMP_IF_IN_ENTRY_CODE label
    mov UCONTEXT_RIP(%rdx), %rsi
    lea myst_entry_text_begin(%rip), %rcx
    cmp %rcx, %rsi
    jb 8f
    lea myst_entry_text_end(%rip), %rcx
    cmp %rcx, %rsi
    jb \label
8:  lea myst_allowed_begin(%rip), %rcx
    cmp %rcx, %rsi
    jb 7f
    lea myst_allowed_end(%rip), %rcx
    cmp %rcx, %rsi
    jb \label
7:
.endm

// PROGRAM_STATE_FROM_SIGNAL_STACK: rax = this thread's EntryState (the
// first word of its signal stack; rdx = ucontext) when the thread was
// running program code; else jumps to the caller's label 1 with rax = the
// state, or 0 for a thread without one.
.macro PROGRAM_STATE_FROM_SIGNAL_STACK
    xor %eax, %eax
    testl $SS_DISABLE, UCONTEXT_STACK_FLAGS(%rdx)
    jnz 1f
    mov UCONTEXT_STACK_SP(%rdx), %rax
    test %rax, %rax
    jz 1f
    mov (%rax), %rax
    test %rax, %rax
    jz 1f
    cmpb $1, STATE_SELECTOR(%rax)
    jne 1f
.endm

// The SIGSYS handler without FSGSBASE: the state is the first word of this
// thread's signal stack.
    .globl myst_sigsys_entry_arch_prctl
    .type myst_sigsys_entry_arch_prctl, @function
myst_sigsys_entry_arch_prctl:
    mov UCONTEXT_STACK_SP(%rdx), %rax
    mov (%rax), %rax
    ENTER_WITH_ARCH_PRCTL myst_sigsys_dispatch
    .size myst_sigsys_entry_arch_prctl, .-myst_sigsys_entry_arch_prctl

// The fault handler without FSGSBASE. A thread without our signal stack, or
// whose selector is ALLOW, faulted in the kernel's own code.
    .globl myst_fault_entry_arch_prctl
    .type myst_fault_entry_arch_prctl, @function
myst_fault_entry_arch_prctl:
    PROGRAM_STATE_FROM_SIGNAL_STACK
    ENTER_WITH_ARCH_PRCTL myst_fault_dispatch
1:  jmp myst_kernel_fault
    .size myst_fault_entry_arch_prctl, .-myst_fault_entry_arch_prctl

// The interrupt entry without FSGSBASE (see myst_interrupt_entry).
    .globl myst_interrupt_entry_arch_prctl
    .type myst_interrupt_entry_arch_prctl, @function
myst_interrupt_entry_arch_prctl:
    PROGRAM_STATE_FROM_SIGNAL_STACK
    JUMP_IF_IN_ENTRY_CODE 1f
    ENTER_WITH_ARCH_PRCTL myst_fault_dispatch
1:  INTERRUPT_IN_KERNEL
    .size myst_interrupt_entry_arch_prctl, .-myst_interrupt_entry_arch_prctl

// ENTER_WITH_FSGSBASE dispatch: the FSGSBASE form of the fault and
// interrupt entries. rax = EntryState, selector at BLOCK, the program's FS.
.macro ENTER_WITH_FSGSBASE dispatch
    rdfsbase %rcx
    mov %rcx, STATE_PROGRAM_FS(%rax)
    mov STATE_KERNEL_FS(%rax), %rcx
    wrfsbase %rcx
    movb $0, STATE_SELECTOR(%rax)
    push %rax
    mov %rax, %rcx
    call \dispatch
    pop %rax
    mov STATE_PROGRAM_FS(%rax), %rcx
    wrfsbase %rcx
    movb $1, STATE_SELECTOR(%rax)
    ret
.endm

// Handler of the synchronous faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
// SIGTRAP). A fault in program code (selector at BLOCK) enters the kernel as a
// syscall does; a fault in the kernel itself goes to myst_kernel_fault.
    .globl myst_fault_entry
    .type myst_fault_entry, @function
myst_fault_entry:
    rdgsbase %rax
    test %rax, %rax
    jz 1f
    cmpb $1, STATE_SELECTOR(%rax)
    jne 1f
    ENTER_WITH_FSGSBASE myst_fault_dispatch
1:  jmp myst_kernel_fault
    .size myst_fault_entry, .-myst_fault_entry

// Handler of the interrupt signal another thread sends to make this one act
// on a signal: in program code it enters the kernel (myst_fault_dispatch
// with the interrupt signal); in kernel code it only ends the host call it
// interrupted (EINTR), and the kernel acts on the way out.
    .globl myst_interrupt_entry
    .type myst_interrupt_entry, @function
myst_interrupt_entry:
    rdgsbase %rax
    test %rax, %rax
    jz 1f
    cmpb $1, STATE_SELECTOR(%rax)
    jne 1f
    JUMP_IF_IN_ENTRY_CODE 1f
    ENTER_WITH_FSGSBASE myst_fault_dispatch
1:  INTERRUPT_IN_KERNEL
    .size myst_interrupt_entry, .-myst_interrupt_entry

// int myst_enter_program(EntryState* state, uint64_t entry, uint64_t stack)
    .globl myst_enter_program
    .type myst_enter_program, @function
myst_enter_program:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, STATE_KERNEL_SP(%rdi)
    stmxcsr STATE_MXCSR(%rdi)
    fnstcw STATE_FPU_CONTROL(%rdi)
    mov %rdx, %r12             // survive the arch_prctl syscall
    mov %rsi, %r13
    mov %rdi, %r14
    cmpb $0, STATE_FS_SWITCH(%rdi)
    je 1f
    mov STATE_PROGRAM_FS(%rdi), %rax
    wrfsbase %rax
    jmp 2f
1:  SET_FS_FROM %r14, STATE_PROGRAM_FS   // the selector is still ALLOW
2:  mov %r14, %rdi
    mov %r12, %rdx
    mov %r13, %rsi
    mov %rdx, %rsp
    mov %rsi, %r11
    movb $1, STATE_SELECTOR(%rdi)
    xor %eax, %eax
    xor %ebx, %ebx
    xor %ecx, %ecx
    xor %edx, %edx             // no atexit function for the program
    xor %esi, %esi
    xor %edi, %edi
    xor %ebp, %ebp
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r12d, %r12d
    xor %r13d, %r13d
    xor %r14d, %r14d
    xor %r15d, %r15d
    jmp *%r11
    .size myst_enter_program, .-myst_enter_program

// int myst_enter_program_context(EntryState* state, ucontext_t* context):
// enters the program with every register of `context` (a new thread starts
// where its creator's clone returned). The frame is put in place by the
// host's rt_sigreturn, reached through the always-allowed trampoline; its
// uc_stack is the thread's own signal stack and its fpregs may be null
// (initial FPU state).
    .globl myst_enter_program_context
    .type myst_enter_program_context, @function
myst_enter_program_context:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, STATE_KERNEL_SP(%rdi)
    stmxcsr STATE_MXCSR(%rdi)
    fnstcw STATE_FPU_CONTROL(%rdi)
    mov %rsi, %r13
    mov %rdi, %r14
    cmpb $0, STATE_FS_SWITCH(%rdi)
    je 1f
    mov STATE_PROGRAM_FS(%rdi), %rax
    wrfsbase %rax
    jmp 2f
1:  SET_FS_FROM %r14, STATE_PROGRAM_FS   // the selector is still ALLOW
2:  movb $1, STATE_SELECTOR(%r14)
    mov %r13, %rsp             // rt_sigreturn finds the frame at rsp - 8
    jmp myst_sigreturn_trampoline
    .size myst_enter_program_context, .-myst_enter_program_context

// void myst_leave_program(EntryState* state, int status): back to the caller
// of myst_enter_program, from a handler running with the kernel's FS base.
    .globl myst_leave_program
    .type myst_leave_program, @function
myst_leave_program:
    mov STATE_KERNEL_SP(%rdi), %rsp
    ldmxcsr STATE_MXCSR(%rdi)
    fldcw STATE_FPU_CONTROL(%rdi)
    mov %esi, %eax
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret
    .size myst_leave_program, .-myst_leave_program

    .globl myst_entry_text_end
myst_entry_text_end:

    .section .note.GNU-stack, "", @progbits
