#include "tests/bpf_diff/inputs.h"

#include <linux/filter.h>

#include <algorithm>
#include <random>

namespace fdattest::bpf_diff {
namespace {

void SortUnique(std::vector<uint32_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

class Generator {
 public:
  Generator(const BpfProgram& program, const std::vector<int>& fds, uint64_t seed)
      : consts_(ExtractConstants(program)), fds_(fds), rng_(seed) {
    if (fds_.empty()) fds_ = {0, 1, 2};
    for (const auto& v : consts_.by_word) all_.insert(all_.end(), v.begin(), v.end());
    all_.push_back(0);
    SortUnique(all_);
    if (consts_.args.empty()) consts_.args = {0, 1, 2};
  }

  SeccompInput Make(uint32_t arch, uint32_t nr) {
    SeccompInput in;
    in.w[0] = nr;
    in.w[1] = arch;
    const bool is32 = arch == kAuditArchI386;
    for (int a = 0; a < 6; ++a) {
      uint64_t v = Arg(a);
      if (is32) v &= 0xffffffff;
      in.set_arg(a, v);
    }
    return in;
  }

  uint32_t RandomArch() { return rng_() % 100 < 35 ? kAuditArchI386 : kAuditArchX86_64; }

  uint32_t RandomNr() {
    const auto& nr_consts = consts_.by_word[0];
    switch (rng_() % 20) {
      case 8:
      case 9:
      case 10:
        if (!nr_consts.empty()) return Near(Pick(nr_consts));
        return static_cast<uint32_t>(rng_() % 501);
      case 11:
      case 12:
        return kX32SyscallBit | static_cast<uint32_t>(rng_() % 600);
      case 13:
        return Special();
      case 14:
      case 15:
        return static_cast<uint32_t>(rng_());
      default:
        return static_cast<uint32_t>(rng_() % 501);
    }
  }

  uint32_t Special() {
    static constexpr uint32_t kSpecial[] = {0xffffffff, 0xfffffffe, 0x3fffffff, 0x40000000,
                                            0x7fffffff, 0x80000000, 0xffffff9c, 501,
                                            511,        512,        547,        548,
                                            1023,       1024,       0x4000ffff, 0xc0000000};
    return kSpecial[rng_() % std::size(kSpecial)];
  }

  const std::vector<uint32_t>& NrConstants() const { return consts_.by_word[0]; }

  // For every site where an argument word is compared with k: inputs with
  // that arch and nr and the word at k-1, k, k+1 (and, for a lo word, k with
  // hi-word junk). Other words of the same syscall are set to one of their
  // own constants half of the time, so conjunctions of compares fire too.
  void SweepSites(std::vector<SeccompInput>& out) {
    const auto& sites = consts_.sites;
    for (size_t i = 0; i < sites.size(); ++i) {
      const auto& s = sites[i];
      const bool is32 = s.arch == kAuditArchI386;
      const bool hi = (s.word - ArgLoWord(0)) % 2 == 1;
      if (is32 && hi) continue;  // int $0x80 cannot set a hi word
      for (int variant = 0; variant < (hi || is32 ? 3 : 4); ++variant) {
        SeccompInput in = Make(s.arch, s.nr);
        for (size_t j = 0; j < sites.size(); ++j) {
          const auto& o = sites[j];
          if (o.arch != s.arch || o.nr != s.nr || (is32 && (o.word - ArgLoWord(0)) % 2 == 1)) {
            continue;
          }
          if (rng_() % 2 == 0) in.w[o.word] = o.k;
        }
        in.w[s.word] = variant == 0 ? s.k - 1 : variant == 1 ? s.k : s.k + (variant == 2 ? 1 : 0);
        if (variant == 3) in.w[s.word + 1] = Junk();
        out.push_back(in);
      }
    }
  }

 private:
  uint32_t Pick(const std::vector<uint32_t>& v) { return v[rng_() % v.size()]; }
  uint32_t Near(uint32_t k) {
    switch (rng_() % 4) {
      case 0:
        return k - 1;
      case 1:
        return k + 1;
      default:
        return k;
    }
  }
  uint32_t Junk() {
    switch (rng_() % 5) {
      case 0:
        return 1;
      case 1:
        return 0xffffffff;
      case 2:
        return 0x80000000;
      default:
        return static_cast<uint32_t>(rng_()) | 1;
    }
  }
  uint32_t Fd() {
    const uint32_t fd = static_cast<uint32_t>(fds_[rng_() % fds_.size()]);
    switch (rng_() % 6) {
      case 0:
        return fd - 1;
      case 1:
        return fd + 1;
      default:
        return fd;
    }
  }
  const std::vector<uint32_t>& LoConsts(int arg) {
    const auto& own = consts_.by_word[ArgLoWord(arg)];
    return !own.empty() && rng_() % 2 == 0 ? own : consts_.args;
  }
  uint32_t HiConst(int arg) {
    const auto& own = consts_.by_word[ArgHiWord(arg)];
    if (own.empty()) return Junk();
    return Near(Pick(own));
  }

  uint64_t Arg(int arg) {
    uint32_t lo = 0, hi = 0;
    switch (rng_() % 16) {
      case 0:
      case 1:
      case 2:
        lo = Fd();
        break;
      case 3:
        lo = Fd(), hi = Junk();
        break;
      case 4:
      case 5:
        lo = Near(Pick(LoConsts(arg)));
        break;
      case 6:
        lo = Near(Pick(LoConsts(arg))), hi = Junk();
        break;
      case 7:
        lo = Near(Pick(LoConsts(arg))), hi = HiConst(arg);
        break;
      case 8:
        lo = static_cast<uint32_t>(rng_()), hi = HiConst(arg);
        break;
      case 9: {
        static constexpr uint64_t kBoundary[] = {0,
                                                 1,
                                                 0xffffffff,
                                                 0x100000000,
                                                 ~0ULL,
                                                 0x7fffffff,
                                                 0x80000000,
                                                 0xffffffff80000000,
                                                 0xffffffff00000000,
                                                 0x7fffffffffffffff,
                                                 0x8000000000000000,
                                                 0xffffffffffffff9c};
        return kBoundary[rng_() % std::size(kBoundary)];
      }
      case 10:
        lo = static_cast<uint32_t>(rng_());
        break;
      case 11:
        return rng_();
      case 12:
        lo = static_cast<uint32_t>(rng_() % 301);
        break;
      case 13:
        lo = Pick(LoConsts(arg)) | static_cast<uint32_t>(rng_() & rng_());
        break;
      case 14:
        lo = Pick(LoConsts(arg)) & static_cast<uint32_t>(rng_());
        break;
      default:
        lo = Near(Pick(all_)), hi = Near(Pick(all_));
        break;
    }
    return (uint64_t{hi} << 32) | lo;
  }

  ProgramConstants consts_;
  std::vector<int> fds_;
  std::vector<uint32_t> all_;
  std::mt19937_64 rng_;
};

}  // namespace

ProgramConstants ExtractConstants(const BpfProgram& program) {
  ProgramConstants c;
  int word = 0;
  uint32_t arch = kAuditArchX86_64, nr = 0;
  for (const BpfInsn& in : program.insns()) {
    if (in.code == (BPF_LD | BPF_W | BPF_ABS)) {
      word = static_cast<int>(in.k / 4);
    } else if (in.code == (BPF_ALU | BPF_AND | BPF_K) ||
               (BPF_CLASS(in.code) == BPF_JMP && BPF_OP(in.code) != BPF_JA)) {
      c.by_word[word].push_back(in.k);
      if (in.code == (BPF_JMP | BPF_JEQ | BPF_K) && word == 1 &&
          (in.k == kAuditArchX86_64 || in.k == kAuditArchI386)) {
        arch = in.k;
      } else if (in.code == (BPF_JMP | BPF_JEQ | BPF_K) && word == 0) {
        nr = in.k;
      } else if (word >= ArgLoWord(0)) {
        c.sites.push_back({arch, nr, word, in.k});
      }
    }
  }
  std::sort(c.sites.begin(), c.sites.end());
  c.sites.erase(std::unique(c.sites.begin(), c.sites.end()), c.sites.end());
  for (int w = 0; w < kSeccompWords; ++w) {
    SortUnique(c.by_word[w]);
    if (w >= ArgLoWord(0)) c.args.insert(c.args.end(), c.by_word[w].begin(), c.by_word[w].end());
  }
  SortUnique(c.args);
  return c;
}

bool KernelCanIssue(const SeccompInput& in) {
  if (in.arch() == kAuditArchX86_64) return true;
  if (in.arch() != kAuditArchI386) return false;
  for (int a = 0; a < 6; ++a) {
    if (in.w[ArgHiWord(a)] != 0) return false;
  }
  return true;
}

uint64_t SeedOf(const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (unsigned char ch : name) h = (h ^ ch) * 0x100000001b3ULL;
  return h;
}

std::vector<SeccompInput> GenerateInputs(const BpfProgram& program, const std::vector<int>& fds,
                                         uint64_t seed, size_t min_count) {
  constexpr int kPerNr = 20;
  Generator g(program, fds, seed);
  std::vector<SeccompInput> out;
  out.reserve(min_count);
  for (uint32_t arch : {kAuditArchX86_64, kAuditArchI386}) {
    // Every syscall number.
    for (uint32_t nr = 0; nr <= 500; ++nr) {
      for (int i = 0; i < kPerNr; ++i) out.push_back(g.Make(arch, nr));
    }
    // x32 numbers (on i386 too: the bit means nothing there).
    for (uint32_t n = 0; n < 600; n += arch == kAuditArchX86_64 ? 1 : 7) {
      for (int i = 0; i < 3; ++i) out.push_back(g.Make(arch, kX32SyscallBit | n));
    }
    for (int i = 0; i < 128; ++i) out.push_back(g.Make(arch, g.Special()));
    // The program's own nr constants and their neighbours.
    for (uint32_t k : g.NrConstants()) {
      for (uint32_t nr : {k - 1, k, k + 1}) {
        for (int i = 0; i < 4; ++i) out.push_back(g.Make(arch, nr));
      }
    }
  }
  g.SweepSites(out);
  while (out.size() < min_count) out.push_back(g.Make(g.RandomArch(), g.RandomNr()));
  return out;
}

}  // namespace fdattest::bpf_diff
