export * from './merkle-tree';
