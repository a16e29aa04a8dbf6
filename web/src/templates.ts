/** The console's templates are schemas/templates.ts's, shared with the API that refuses unfilled placeholders. */
export { TEMPLATES, type Template, unfilledPlaceholders } from '../../schemas/templates';
