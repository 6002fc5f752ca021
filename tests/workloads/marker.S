/* A workload whose first instruction writes a marker: write(4, "M", 1),
 * then exit(0). No C runtime runs before it (-nostdlib -static), so the
 * marker on fd 4 is the first thing the workload does once released. */
        .globl _start
        .text
_start:
        mov     $1, %eax            /* write */
        mov     $4, %edi            /* the profile's marker fd */
        lea     marker(%rip), %rsi
        mov     $1, %edx
        syscall
        mov     $60, %eax           /* exit */
        xor     %edi, %edi
        syscall
        hlt
        .section .rodata
marker:
        .byte   'M'
        .section .note.GNU-stack,"",@progbits
