/* The launch-overhead workload: exits 0 at once. Linked -static because
 * fdlaunch runs only statically linked programs, and so that plain, fdlaunch
 * and bwrap launches all pay the same (small) start-up cost. */
int main(void) { return 0; }
