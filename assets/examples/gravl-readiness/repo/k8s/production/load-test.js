// k6 load test for Gravl. Run against staging before the production launch:
//   export GRAVL_API_URL="https://staging.gravl.app"
//   k6 run k8s/production/load-test.js
import http from 'k6/http';
import { check, sleep } from 'k6';

const BASE = __ENV.GRAVL_API_URL || 'https://staging.gravl.app';

export const options = {
  scenarios: {
    steady: {
      executor: 'constant-arrival-rate',
      rate: 120,            // requests per second; the launch target is > 100 req/s
      timeUnit: '1s',
      duration: '5m',
      preAllocatedVUs: 50,
      maxVUs: 200,
    },
  },
  thresholds: {
    http_req_duration: ['p(95)<200', 'p(99)<500'],
    http_req_failed: ['rate<0.001'],
  },
};

export default function () {
  const res = http.get(`${BASE}/health`);
  check(res, { 'status is 200': (r) => r.status === 200 });
  sleep(0.1);
}
