export * from './facts';
export * from './prng';
export * from './plan';
export * from './scenario';
export * from './incident-timeline';
export * from './report';
