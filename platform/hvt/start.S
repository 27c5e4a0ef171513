/*
 * start.S - the hvt guest's entry point and CPU exception stubs.
 *
 * uweb-hvt starts the vCPU in 64-bit long mode at _start with %rdi = the
 * address of struct uw_hvt_boot and %rsp = the top of guest memory - 8.
 * _start aligns the stack for the SysV ABI and calls uw_hvt_start(boot)
 * (bindings.c), which never returns.
 *
 * The exception stubs (vectors 0-31, installed in the IDT by bindings.c)
 * turn any CPU exception into one UW_HVT_CALL_FAULT hypercall: they build
 * struct uw_hvt_fault on the stack (cr2, vector, error code, then the
 * frame the CPU pushed) and pass its address to the tender, which reports
 * the crash and ends the guest.
 */
    .text
    .globl _start
    .type _start, @function
_start:
    xorl %ebp, %ebp          /* end of the frame-pointer chain */
    andq $-16, %rsp          /* 16-byte aligned before the call */
    call uw_hvt_start
    ud2                      /* not reached */
    .size _start, . - _start

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERROR_CODE(n) ((n) == 8 || (n) == 10 || (n) == 11 || (n) == 12 || \
                           (n) == 13 || (n) == 14 || (n) == 17 || (n) == 21 || \
                           (n) == 29 || (n) == 30)

    .macro trap_stub n
uw_hvt_trap\n:
    .if HAS_ERROR_CODE(\n)
    .else
    pushq $0                 /* no error code: keep one layout */
    .endif
    pushq $\n
    jmp uw_hvt_trap_common
    .endm

    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    trap_stub \n
    .endr

uw_hvt_trap_common:
    movq %cr2, %rax
    pushq %rax               /* struct uw_hvt_fault starts here */
    movl %esp, %eax          /* guest memory is below 4 GiB */
    movw $(0x500 + 10), %dx  /* UW_HVT_PIO_BASE + UW_HVT_CALL_FAULT */
1:  outl %eax, %dx
    jmp 1b                   /* the tender never resumes a fault */

    .section .rodata
    .balign 8
    .globl uw_hvt_trap_stubs
uw_hvt_trap_stubs:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad uw_hvt_trap\n
    .endr

    .section .note.GNU-stack, "", @progbits
