export * from './incident-timeline.projection';
export * from './incident-timeline.query';
