// `fdlaunch enroll --attestor SOCKET --verifier URL --ca CERT [--replace]`
// (launcher/enroll.h does the work; docs/launcher.md, "Enrollment"). For
// main() only; not thread-safe.
#ifndef FDATTEST_LAUNCHER_ENROLL_COMMAND_H_
#define FDATTEST_LAUNCHER_ENROLL_COMMAND_H_

namespace fdattest {

// argv[0] is "enroll". Prints the attester id on stdout; exit 0, 1 on
// failure (one line "fdlaunch enroll: error: ..." on stderr), 2 on a usage
// error.
int RunEnrollCommand(int argc, char** argv);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_ENROLL_COMMAND_H_
