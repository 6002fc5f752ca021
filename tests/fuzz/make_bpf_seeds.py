#!/usr/bin/env python3
"""Writes the hand-written seed programs of the BPF fuzzer to corpus/bpf/.

Each seed is a seccomp classic-BPF program in the strict subset BpfProgram
accepts, as raw little-endian sock_filter bytes. The generated files are
checked in; rerun this script only after changing it. Two further seeds,
launcher_*.bpf, are the launcher's own compiled filter (bench_filter_tool
compile OUT, and allow-execve applied to it) and are not produced here.

Usage: make_bpf_seeds.py [OUT_DIR]   (default: corpus/bpf next to this file)
"""
import os
import struct
import sys

# Opcodes (linux/filter.h, linux/bpf_common.h).
LD_W_ABS = 0x20
ALU_AND_K = 0x54
JA = 0x05
JEQ = 0x15
JGT = 0x25
JGE = 0x35
JSET = 0x45
RET_K = 0x06

# Return values (linux/seccomp.h).
KILL_PROCESS = 0x80000000
KILL_THREAD = 0x00000000
TRAP = 0x00030000
ERRNO = 0x00050000
USER_NOTIF = 0x7FC00000
TRACE = 0x7FF00000
LOG = 0x7FFC0000
ALLOW = 0x7FFF0000

ARCH_X86_64 = 0xC000003E
ARCH_I386 = 0x40000003
X32_BIT = 0x40000000

# seccomp_data word offsets (bytes).
NR, ARCH = 0, 4


def arg_lo(i):
    return 16 + 8 * i


def arg_hi(i):
    return 20 + 8 * i


class Asm:
    """Tiny assembler with forward labels: jump targets are label names."""

    def __init__(self):
        self.items = []  # (code, jt, jf, k) with jt/jf/k possibly labels
        self.labels = {}

    def label(self, name):
        self.labels[name] = len(self.items)

    def ld(self, off):
        self.items.append((LD_W_ABS, 0, 0, off))

    def and_(self, k):
        self.items.append((ALU_AND_K, 0, 0, k))

    def ret(self, k):
        self.items.append((RET_K, 0, 0, k))

    def ja(self, target):
        self.items.append((JA, 0, 0, target))

    def j(self, op, k, jt, jf):
        """jt/jf: a label name or None (fall through to the next insn)."""
        self.items.append((op, jt, jf, k))

    def bytes(self):
        out = b""
        for pc, (code, jt, jf, k) in enumerate(self.items):
            def rel(t):
                if t is None:
                    return 0
                off = self.labels[t] - pc - 1
                assert off >= 0, (pc, t)
                return off
            if code == JA:
                k = rel(k)
            elif code in (JEQ, JGT, JGE, JSET):
                jt, jf = rel(jt), rel(jf)
                assert jt < 256 and jf < 256
            out += struct.pack("<HBBI", code, jt, jf, k & 0xFFFFFFFF)
        return out


def allow_all():
    a = Asm()
    a.ret(ALLOW)
    return a


def kill_all():
    a = Asm()
    a.ret(KILL_PROCESS)
    return a


def arch_dispatch():
    """libseccomp-like: arch check, x32 check, nr dispatch, 64-bit fd checks."""
    a = Asm()
    a.ld(ARCH)
    a.j(JEQ, ARCH_X86_64, None, "kill")
    a.ld(NR)
    a.j(JGE, X32_BIT, "kill", None)
    a.j(JEQ, 0, "read", None)        # read
    a.j(JEQ, 1, "write", None)       # write
    a.j(JEQ, 231, "allow", None)     # exit_group
    a.j(JEQ, 60, "allow", None)      # exit
    a.ret(ERRNO | 1)
    a.label("read")
    a.ld(arg_hi(0))
    a.j(JEQ, 0, None, "eperm")
    a.ld(arg_lo(0))
    a.j(JEQ, 0, "allow", None)
    a.j(JEQ, 3, "allow", "eperm")
    a.label("write")
    a.ld(arg_hi(0))
    a.j(JEQ, 0, None, "eperm")
    a.ld(arg_lo(0))
    a.j(JEQ, 1, "allow", None)
    a.j(JEQ, 2, "allow", "eperm")
    a.label("eperm")
    a.ret(ERRNO | 1)
    a.label("allow")
    a.ret(ALLOW)
    a.label("kill")
    a.ret(KILL_PROCESS)
    return a


def multi_arch():
    """x86_64 and i386 sections, x32 numbers killed except -1."""
    a = Asm()
    a.ld(ARCH)
    a.j(JEQ, ARCH_X86_64, "x86", None)
    a.j(JEQ, ARCH_I386, "i386", "kill")
    a.label("x86")
    a.ld(NR)
    a.j(JGT, 0x3FFFFFFF, None, "x86nr")
    a.j(JEQ, 0xFFFFFFFF, "x86nr", "kill")
    a.label("x86nr")
    a.j(JEQ, 39, "allow", None)   # getpid
    a.j(JEQ, 12, "allow", None)   # brk
    a.j(JEQ, 3, "trap", "eperm")  # close
    a.label("i386")
    a.ld(NR)
    a.j(JEQ, 20, "allow", "kill")  # getpid on i386
    a.label("trap")
    a.ret(TRAP | 7)
    a.label("eperm")
    a.ret(ERRNO | 1)
    a.label("allow")
    a.ret(ALLOW)
    a.label("kill")
    a.ret(KILL_PROCESS)
    return a


def masked_args():
    """libseccomp SCMP_CMP_MASKED_EQ and 64-bit >=/> comparisons."""
    a = Asm()
    a.ld(ARCH)
    a.j(JEQ, ARCH_X86_64, None, "kill")
    a.ld(NR)
    a.j(JEQ, 9, "mmap", None)      # mmap
    a.j(JEQ, 72, "fcntl", None)    # fcntl
    a.j(JEQ, 302, "prlimit", None)  # prlimit64
    a.ret(ERRNO | 38)
    a.label("mmap")
    a.ld(arg_lo(3))
    a.and_(0x20)                   # MAP_ANONYMOUS
    a.j(JEQ, 0x20, "allow", None)
    a.ld(arg_hi(4))
    a.j(JEQ, 0, None, "eperm")
    a.ld(arg_lo(4))
    a.and_(0xFFFFFFFF)
    a.j(JEQ, 3, "allow", "eperm")
    a.label("fcntl")
    a.ld(arg_hi(1))
    a.j(JGT, 0, "eperm", None)     # 64-bit arg1 <= 3
    a.ld(arg_lo(1))
    a.j(JGT, 3, "eperm", None)
    a.j(JGE, 1, "allow", "eperm")
    a.label("prlimit")
    a.ld(arg_lo(2))
    a.j(JEQ, 0, None, "eperm")
    a.ld(arg_hi(2))
    a.j(JEQ, 0, "allow", "eperm")
    a.label("eperm")
    a.ret(ERRNO | 1)
    a.label("allow")
    a.ret(ALLOW)
    a.label("kill")
    a.ret(KILL_PROCESS)
    return a


def jset_ja():
    """clone flag tests with jset, and ja over dead code."""
    a = Asm()
    a.ld(ARCH)
    a.j(JEQ, ARCH_X86_64, None, "kill")
    a.ld(NR)
    a.j(JEQ, 56, None, "other")      # clone
    a.ld(arg_lo(0))
    a.j(JSET, 0x7E020000, "eperm", None)  # CLONE_NEW* bits
    a.j(JSET, 0x1000, "eperm", None)      # CLONE_PIDFD
    a.ja("allow")
    a.ret(TRACE | 5)                 # unreachable
    a.ret(LOG)                       # unreachable
    a.label("other")
    a.j(JSET, 0x80000000, "kill", None)
    a.j(JSET, 1, "odd", "even")
    a.label("odd")
    a.ja("eperm")
    a.label("even")
    a.ja("allow")
    a.label("eperm")
    a.ret(ERRNO | 1)
    a.label("allow")
    a.ret(ALLOW)
    a.label("kill")
    a.ret(KILL_PROCESS)
    return a


def range_tree():
    """libseccomp's binary-tree layout: jge/jgt ranges on nr."""
    a = Asm()
    a.ld(ARCH)
    a.j(JEQ, ARCH_X86_64, None, "kill")
    a.ld(NR)
    a.j(JGE, 100, "hi", None)
    a.j(JGE, 50, "mid", None)
    a.j(JGT, 10, "eperm", None)
    a.j(JGE, 5, "allow", "log")
    a.label("mid")
    a.j(JGT, 75, "notif", "allow")
    a.label("hi")
    a.j(JGE, 0x40000000, "kill", None)
    a.j(JGT, 0x3FFFFFFE, "thread", "eperm")
    a.label("log")
    a.ret(LOG)
    a.label("notif")
    a.ret(USER_NOTIF)
    a.label("thread")
    a.ret(KILL_THREAD)
    a.label("eperm")
    a.ret(ERRNO | 4095)
    a.label("allow")
    a.ret(ALLOW)
    a.label("kill")
    a.ret(KILL_PROCESS)
    return a


def const_acc():
    """Jumps before any load (A is 0), an and to zero, equal jump targets."""
    a = Asm()
    a.j(JEQ, 0, None, "kill")       # A == 0: always taken
    a.j(JSET, 0xFFFFFFFF, "kill", None)
    a.ld(NR)
    a.and_(0)                        # A is the constant 0 again
    a.j(JGT, 0, "kill", None)
    a.ld(ARCH)
    a.j(JEQ, ARCH_X86_64, "next", "next")  # both targets equal
    a.label("next")
    a.j(JEQ, ARCH_X86_64, "allow", "kill")
    a.label("allow")
    a.ret(ALLOW)
    a.label("kill")
    a.ret(KILL_PROCESS)
    return a


def diamonds(n):
    """n independent tests whose branches rejoin: 2**n paths."""
    a = Asm()
    for i in range(n):
        a.ld(arg_lo(i % 6) if i < 6 else arg_hi(i % 6))
        a.j(JSET, 1 << i, "d%d" % i, None)
        a.and_(0xFFFFFFFF)           # only on the not-set arm
        a.label("d%d" % i)
    a.ld(NR)
    a.j(JEQ, 0, "allow", None)
    a.ret(ERRNO | 13)
    a.label("allow")
    a.ret(ALLOW)
    return a


def diamonds_split(n):
    """Like diamonds, but both arms do different work before rejoining."""
    a = Asm()
    for i in range(n):
        a.ld(arg_lo(i % 6))
        a.j(JGT, 100 * (i + 1), None, "e%d" % i)
        a.ld(NR)
        a.j(JEQ, i, "kill", "j%d" % i)
        a.label("e%d" % i)
        a.and_(0xFF)
        a.j(JEQ, i, "allow", None)
        a.label("j%d" % i)
    a.ret(ERRNO | 1)
    a.label("allow")
    a.ret(ALLOW)
    a.label("kill")
    a.ret(KILL_PROCESS)
    return a


def deferred_actions():
    a = Asm()
    a.ld(NR)
    a.j(JEQ, 1, "trap", None)
    a.j(JEQ, 2, "trace", None)
    a.j(JEQ, 3, "notif", None)
    a.j(JEQ, 4, "log", None)
    a.j(JEQ, 5, "thread", None)
    a.ret(ALLOW)
    a.label("trap")
    a.ret(TRAP | 0xFFFF)
    a.label("trace")
    a.ret(TRACE | 0x1234)
    a.label("notif")
    a.ret(USER_NOTIF)
    a.label("log")
    a.ret(LOG)
    a.label("thread")
    a.ret(KILL_THREAD)
    return a


def fd_rules():
    """Read/write families restricted to declared fds (0, 3 read; 1, 2 write)."""
    a = Asm()
    a.ld(ARCH)
    a.j(JEQ, ARCH_X86_64, None, "kill")
    a.ld(NR)
    a.j(JGE, X32_BIT, "kill", None)
    for nr, fds, lbl in ((0, (0, 3), "r"), (19, (0, 3), "r"), (1, (1, 2), "w"),
                         (20, (1, 2), "w"), (8, (0, 1, 2, 3), "d"), (5, (0, 1, 2, 3), "d")):
        a.j(JEQ, nr, "%s%d" % (lbl, nr), None)
    a.ret(ERRNO | 1)
    for nr, fds, lbl in ((0, (0, 3), "r"), (19, (0, 3), "r"), (1, (1, 2), "w"),
                         (20, (1, 2), "w"), (8, (0, 1, 2, 3), "d"), (5, (0, 1, 2, 3), "d")):
        a.label("%s%d" % (lbl, nr))
        a.ld(arg_lo(0))
        for fd in fds:
            a.j(JEQ, fd, "allow", None)
        a.ja("eperm")
    a.label("eperm")
    a.ret(ERRNO | 1)
    a.label("allow")
    a.ret(ALLOW)
    a.label("kill")
    a.ret(KILL_PROCESS)
    return a


def ne_chain():
    """A long chain of != on one word (the solver's memoised case)."""
    a = Asm()
    a.ld(arg_lo(0))
    for i in range(40):
        a.j(JEQ, (i * 0x01010101) & 0xFFFFFFFF, "eperm", None)
    a.and_(0xF0F0F0F0)
    a.j(JGE, 0x80000000, "allow", None)
    a.j(JSET, 0x10, "eperm", "allow")
    a.label("eperm")
    a.ret(ERRNO | 2)
    a.label("allow")
    a.ret(ALLOW)
    return a


SEEDS = {
    "allow_all": allow_all,
    "kill_all": kill_all,
    "arch_dispatch": arch_dispatch,
    "multi_arch": multi_arch,
    "masked_args": masked_args,
    "jset_ja": jset_ja,
    "range_tree": range_tree,
    "const_acc": const_acc,
    "diamonds_8": lambda: diamonds(8),
    "diamonds_split_6": lambda: diamonds_split(6),
    "deferred_actions": deferred_actions,
    "fd_rules": fd_rules,
    "ne_chain": ne_chain,
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "bpf")
    os.makedirs(out, exist_ok=True)
    for name, fn in SEEDS.items():
        data = fn().bytes()
        assert len(data) <= 4096, name
        with open(os.path.join(out, name + ".bpf"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
