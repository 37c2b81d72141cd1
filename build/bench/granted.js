window.__grantedAt = performance.now();
