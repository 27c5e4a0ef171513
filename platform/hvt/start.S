/*
 * start.S - the hvt guest's ELF entry point.
 *
 * uweb-hvt starts the vCPU in 64-bit long mode at _start with %rdi = the
 * address of struct uw_hvt_boot and %rsp = the top of guest memory - 8.
 * _start aligns the stack for the SysV ABI and calls uw_hvt_start(boot)
 * (bindings.c), which never returns.
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

    .section .note.GNU-stack, "", @progbits
