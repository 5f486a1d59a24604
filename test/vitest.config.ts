import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    // Dawn (WebGPU) and worker_threads behave best in separate processes.
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
