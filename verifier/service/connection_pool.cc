#include "verifier/service/connection_pool.h"

#include <openssl/crypto.h>
#include <sys/socket.h>

#include <utility>

namespace fdattest {

// What the watchdog knows about one thread's connection. Guarded by `mu`:
// the worker sets and clears the socket, the watchdog shuts it down under the
// same lock, so it never acts on a closed (and maybe reused) descriptor.
struct ConnectionPool::Slot {
  std::mutex mu;
  int fd = -1;
  bool in_handler = false;
  std::chrono::steady_clock::time_point phase_start;
  bool overflow = false;  // the overflow thread's slot

  void SetFd(int new_fd) {
    std::lock_guard<std::mutex> lock(mu);
    fd = new_fd;
    in_handler = false;
    phase_start = std::chrono::steady_clock::now();
  }
};

namespace {

thread_local ConnectionPool::Slot* t_slot = nullptr;

// The SSL ex_data index under which a connection's SSL object points at its
// slot; freeing the SSL object (before cpp-httplib closes the socket) clears
// the slot's socket.
void ForgetSocket(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*idx*/, long /*argl*/,
                  void* /*argp*/) {
  if (ptr == nullptr) return;
  auto* slot = static_cast<ConnectionPool::Slot*>(ptr);
  std::lock_guard<std::mutex> lock(slot->mu);
  slot->fd = -1;
  slot->in_handler = false;
}

int SlotIndex() {
  static const int index =
      SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, ForgetSocket);
  return index;
}

}  // namespace

ConnectionPool::ConnectionPool(const Options& options, std::function<void()> on_timeout)
    : options_(options), on_timeout_(std::move(on_timeout)) {
  SlotIndex();  // created before any thread needs it
  const size_t workers = options_.workers == 0 ? 1 : options_.workers;
  for (size_t i = 0; i <= workers; ++i) {
    slots_.push_back(std::make_unique<Slot>());
    slots_.back()->overflow = i == workers;
  }
  for (size_t i = 0; i < workers; ++i) {
    threads_.emplace_back([this, slot = slots_[i].get()] { Work(slot, &queue_); });
  }
  threads_.emplace_back([this, slot = slots_[workers].get()] { Work(slot, &overflow_); });
  watchdog_ = std::thread([this] { Watch(); });
}

ConnectionPool::~ConnectionPool() { Stop(); }

void ConnectionPool::Enqueue(std::function<void()> serve_connection) {
  std::unique_lock<std::mutex> lock(mu_);
  space_cv_.wait(lock, [&] {
    return stopping_ || queue_.size() < options_.queue ||
           overflow_.size() < options_.overflow_queue;
  });
  // A connection waits for a worker while the queue has room; when stopping
  // it still gets served (cpp-httplib closes its socket only by serving it).
  if (queue_.size() < options_.queue || stopping_) {
    queue_.push_back(std::move(serve_connection));
  } else {
    overflow_.push_back(std::move(serve_connection));
  }
  work_cv_.notify_all();
}

void ConnectionPool::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  space_cv_.wait(lock, [&] { return queue_.empty() && overflow_.empty() && busy_ == 0; });
}

void ConnectionPool::CloseIdleConnections() {
  for (const std::unique_ptr<Slot>& slot : slots_) {
    std::lock_guard<std::mutex> lock(slot->mu);
    if (slot->fd >= 0 && !slot->in_handler) shutdown(slot->fd, SHUT_RDWR);
  }
}

void ConnectionPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  work_cv_.notify_all();
  space_cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  if (watchdog_.joinable()) watchdog_.join();
}

void ConnectionPool::Work(Slot* slot, std::deque<std::function<void()>>* queue) {
  t_slot = slot;
  for (;;) {
    std::function<void()> serve;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue->empty(); });
      if (queue->empty()) return;  // stopping, nothing left
      serve = std::move(queue->front());
      queue->pop_front();
      ++busy_;
    }
    space_cv_.notify_all();
    serve();
    {
      std::lock_guard<std::mutex> lock(slot->mu);
      slot->fd = -1;
      slot->in_handler = false;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      --busy_;
    }
    space_cv_.notify_all();
  }
}

void ConnectionPool::Watch() {
  for (;;) {
    {
      // Rechecked every 100 ms; ends once stopping with nothing left to serve.
      std::unique_lock<std::mutex> lock(mu_);
      if (work_cv_.wait_for(lock, std::chrono::milliseconds(100), [&] {
            return stopping_ && busy_ == 0 && queue_.empty() && overflow_.empty();
          })) {
        return;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    for (const std::unique_ptr<Slot>& slot : slots_) {
      bool timed_out = false;
      {
        std::lock_guard<std::mutex> lock(slot->mu);
        if (slot->fd >= 0 && !slot->in_handler && now - slot->phase_start > options_.deadline) {
          shutdown(slot->fd, SHUT_RDWR);
          slot->fd = -1;  // once
          timed_out = true;
        }
      }
      if (timed_out && on_timeout_) on_timeout_();
    }
  }
}

void ConnectionPool::TlsInfoCallback(const SSL* ssl, int where, int /*ret*/) {
  if ((where & SSL_CB_HANDSHAKE_START) == 0 || t_slot == nullptr) return;
  SSL* mutable_ssl = const_cast<SSL*>(ssl);  // ex_data is set on a const callback argument
  if (SSL_get_ex_data(mutable_ssl, SlotIndex()) != nullptr) return;  // a renegotiation
  t_slot->SetFd(SSL_get_fd(ssl));
  SSL_set_ex_data(mutable_ssl, SlotIndex(), t_slot);
}

bool ConnectionPool::OnOverflowThread() { return t_slot != nullptr && t_slot->overflow; }

void ConnectionPool::EnterHandler() {
  if (t_slot == nullptr) return;
  std::lock_guard<std::mutex> lock(t_slot->mu);
  t_slot->in_handler = true;
}

void ConnectionPool::LeaveHandler() {
  if (t_slot == nullptr) return;
  std::lock_guard<std::mutex> lock(t_slot->mu);
  t_slot->in_handler = false;
  t_slot->phase_start = std::chrono::steady_clock::now();
}

void ConnectionPool::CloseAfterResponse() {
  if (t_slot == nullptr) return;
  std::lock_guard<std::mutex> lock(t_slot->mu);
  if (t_slot->fd >= 0) shutdown(t_slot->fd, SHUT_RD);
}

}  // namespace fdattest
