// The workers that serve fdverifierd's connections, and the watchdog that
// keeps slow clients from holding them. cpp-httplib hands every accepted
// connection to a task queue and a worker then owns it until it closes; this
// pool bounds all of it:
//  - `workers` threads serve connections, at most `queue` more wait for one;
//  - beyond that, up to `overflow_queue` connections go to one overflow
//    thread, whose requests are all answered 503 with Retry-After
//    (OnOverflowThread() tells the HTTP layer so);
//  - beyond that, Enqueue blocks the accepting thread: the kernel's listen
//    backlog holds further connections, never memory of ours.
// The watchdog gives every connection `deadline` from its TLS handshake's
// start, or from its last handler's end, to deliver its next complete request;
// a connection over it (a client dribbling bytes) is shut down, which ends
// its worker's blocking read. Handlers themselves are never interrupted.
// A worker learns its connection's socket through the TLS layer
// (TlsInfoCallback, installed on the server's SSL_CTX), and forgets it when
// the connection's SSL object is freed, before cpp-httplib closes the socket,
// so the watchdog never shuts down a descriptor number already reused.
// Thread-safe; the static functions act on the calling worker's connection.
#ifndef FDATTEST_VERIFIER_SERVICE_CONNECTION_POOL_H_
#define FDATTEST_VERIFIER_SERVICE_CONNECTION_POOL_H_

#include <openssl/ssl.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/string_view.h"

namespace fdattest {

class ConnectionPool {
 public:
  struct Options {
    size_t workers = 32;
    size_t queue = 64;
    size_t overflow_queue = 64;
    std::chrono::milliseconds deadline{10000};
  };
  // `on_timeout` is told (from the watchdog thread) about each connection it
  // shuts down, for the event log.
  ConnectionPool(const Options& options, std::function<void()> on_timeout);
  ~ConnectionPool();  // Stop()s
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Runs `serve_connection` on a worker, on the overflow thread, or blocks
  // until one of their queues has room (see above).
  void Enqueue(std::function<void()> serve_connection);
  // Waits until every queued connection was served and every worker is idle.
  void Drain();
  // Shuts down every connection not inside a handler (a graceful stop: the
  // requests being handled finish, nothing new is read).
  void CloseIdleConnections();
  // Ends the threads after draining. Idempotent.
  void Stop();

  // SSL_CTX_set_info_callback target: records the connection's socket for
  // the calling worker at the start of the TLS handshake.
  static void TlsInfoCallback(const SSL* ssl, int where, int ret);
  // For the HTTP layer, on the calling thread's connection.
  static bool OnOverflowThread();
  static void EnterHandler();
  static void LeaveHandler();
  // Ends the calling worker's connection once the response being written is
  // out: its reading side is shut down (a body left unread, overload).
  static void CloseAfterResponse();

  struct Slot;  // one per thread (connection_pool.cc)

 private:
  void Work(Slot* slot, std::deque<std::function<void()>>* queue);
  void Watch();

  const Options options_;
  std::function<void()> on_timeout_;
  std::mutex mu_;
  std::condition_variable work_cv_;   // queued work or stopping
  std::condition_variable space_cv_;  // room in a queue, or a worker went idle
  std::deque<std::function<void()>> queue_;
  std::deque<std::function<void()>> overflow_;
  size_t busy_ = 0;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::thread> threads_;
  std::thread watchdog_;
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_CONNECTION_POOL_H_
