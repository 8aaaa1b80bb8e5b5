/* Trampolines for the libvips functions libimgpipe calls (lazy_vips_symbols.inc), so that
   libimgpipe does not link libvips and a process loads it, with the ~100 libraries Debian
   builds it against, only when it first calls one (lazy_vips.cpp). Each trampoline jumps
   through its slot; a slot starts at its resolver, which saves the argument registers, has
   every slot filled with dlsym (imgpipe_vips_resolve) and jumps on to the function with the
   registers as the caller left them. A jump keeps any signature working, variadic ones
   included. x86-64 SysV. */

#define IMGPIPE_LAZY_VIPS(name)                                   \
  .text;                                                          \
  .globl name;                                                    \
  .hidden name;                                                   \
  .type name, @function;                                          \
name:                                                             \
  jmp *imgpipe_slot_##name(%rip);                                 \
imgpipe_resolve_##name:                                           \
  lea imgpipe_slot_##name(%rip), %r11;                            \
  jmp imgpipe_vips_lazy_common;                                   \
  .size name, . - name;                                           \
  .data;                                                          \
  .balign 8;                                                      \
imgpipe_slot_##name:                                              \
  .quad imgpipe_resolve_##name;

  .data
  .balign 8
  .globl imgpipe_vips_slots
  .hidden imgpipe_vips_slots
imgpipe_vips_slots:
#include "lazy_vips_symbols.inc"

  .text
  .type imgpipe_vips_lazy_common, @function
/* Entered by a jump from a resolver: the stack as at the trampoline's entry, %r11 the slot. */
imgpipe_vips_lazy_common:
  push %rdi
  push %rsi
  push %rdx
  push %rcx
  push %r8
  push %r9
  push %rax          /* a variadic call's count of vector registers */
  push %r11
  sub $136, %rsp     /* xmm0-7, and 16-byte alignment for the call */
  movdqu %xmm0, 0(%rsp)
  movdqu %xmm1, 16(%rsp)
  movdqu %xmm2, 32(%rsp)
  movdqu %xmm3, 48(%rsp)
  movdqu %xmm4, 64(%rsp)
  movdqu %xmm5, 80(%rsp)
  movdqu %xmm6, 96(%rsp)
  movdqu %xmm7, 112(%rsp)
  call imgpipe_vips_resolve
  movdqu 0(%rsp), %xmm0
  movdqu 16(%rsp), %xmm1
  movdqu 32(%rsp), %xmm2
  movdqu 48(%rsp), %xmm3
  movdqu 64(%rsp), %xmm4
  movdqu 80(%rsp), %xmm5
  movdqu 96(%rsp), %xmm6
  movdqu 112(%rsp), %xmm7
  add $136, %rsp
  pop %r11
  pop %rax
  pop %r9
  pop %r8
  pop %rcx
  pop %rdx
  pop %rsi
  pop %rdi
  jmp *(%r11)
  .size imgpipe_vips_lazy_common, . - imgpipe_vips_lazy_common

  .section .note.GNU-stack, "", @progbits
