export { validateServiceSpec, type ServiceSpecOptions } from './service';
export { validateNodeSpec } from './node';
export { validateServiceUpdate, newService, updateService, rollbackService, type RollbackOptions } from './lifecycle';
export { SpecChecker, type Check } from './schema';
