import type { CustomerProfileSnapshot } from '@mmp/contracts';
import { AppError } from '@mmp/errors';
import { Controller, Get, Param } from '@nestjs/common';
import { ProfileStore } from '../store/profile.store';

@Controller('v1/customers')
export class CustomersController {
  constructor(private readonly profiles: ProfileStore) {}

  /** The profile with its traits and computed attributes (SPEC section 6). */
  @Get(':customerId')
  async get(@Param('customerId') customerId: string): Promise<CustomerProfileSnapshot> {
    const profile = await this.profiles.findProfile(customerId);
    if (!profile) throw AppError.notFound(`customer ${customerId} is not known`);
    return profile;
  }
}
