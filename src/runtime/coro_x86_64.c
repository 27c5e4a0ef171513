/*
 * The x86-64 context switch (System V ABI).  A switch pushes the
 * callee-saved registers on the current stack, stores the stack pointer,
 * loads the other one and pops its registers: 14 instructions.  The x87
 * control word and MXCSR are not switched: no uweb task changes them.
 */
#include "runtime_internal.h"

__asm__(
    ".text\n"
    ".globl uw_ctx_switch\n"
    ".type uw_ctx_switch,@function\n"
    "uw_ctx_switch:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    movq %rsp, (%rdi)\n"
    "    movq (%rsi), %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    ".size uw_ctx_switch, .-uw_ctx_switch\n"
    "\n"
    ".type uw_ctx_trampoline,@function\n"
    "uw_ctx_trampoline:\n"
    "    andq $-16, %rsp\n"
    "    call uw__task_start\n"
    "    ud2\n"
    ".size uw_ctx_trampoline, .-uw_ctx_trampoline\n");

void uw_ctx_trampoline(void);

void uw_ctx_make(uw_ctx *ctx, void *base, size_t size)
{
    uintptr_t top = ((uintptr_t)base + size) & ~(uintptr_t)15;
    void **sp = (void **)top;
    *--sp = 0;                          /* no return address past the trampoline */
    *--sp = (void *)uw_ctx_trampoline;  /* where the first switch "returns" */
    for (int i = 0; i < 6; i++)
        *--sp = 0;                      /* rbp rbx r12 r13 r14 r15 */
    ctx->sp = sp;
}
