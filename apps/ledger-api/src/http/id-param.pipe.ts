import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { isValidId } from '@app/domain';
import { badRequest } from './validation';

/** Path ids follow the same rule as body ids: `[A-Za-z0-9_-]{1,64}`. */
@Injectable()
export class IdParamPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, metadata: ArgumentMetadata): string {
    if (!isValidId(value)) {
      throw badRequest([{ field: metadata.data ?? 'id', reasons: ['must contain only letters, digits, _ and - (1 to 64 characters)'] }]);
    }
    return value;
  }
}
