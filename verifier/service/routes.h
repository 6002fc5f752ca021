// fdverifierd's route table: every route of API v1 (docs/openapi.yaml) with
// its handler, the role it needs and the body it takes. Stateless.
#ifndef FDATTEST_VERIFIER_SERVICE_ROUTES_H_
#define FDATTEST_VERIFIER_SERVICE_ROUTES_H_

#include <vector>

#include "verifier/service/router.h"

namespace fdattest {

std::vector<Route> ServiceRoutes();

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_ROUTES_H_
