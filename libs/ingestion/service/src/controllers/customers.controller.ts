import type { CustomerProfileSnapshot } from '@mmp/contracts';
import { AppError } from '@mmp/errors';
import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import { ProfileStore } from '../store/profile.store';
import { EraseCustomerUsecase } from '../usecases/erase-customer/erase-customer.usecase';

@Controller('v1/customers')
export class CustomersController {
  constructor(
    private readonly profiles: ProfileStore,
    private readonly erasure: EraseCustomerUsecase,
  ) {}

  /** The profile with its traits and computed attributes; 404 if unknown or erased (SPEC section 6). */
  @Get(':customerId')
  async get(@Param('customerId') customerId: string): Promise<CustomerProfileSnapshot> {
    const profile = await this.profiles.findProfile(customerId);
    if (!profile) throw AppError.notFound(`customer ${customerId} is not known`);
    return profile;
  }

  /**
   * Erasure (SPEC section 6): 202 once ingestion's part is done and the erasure event is out;
   * the other services erase theirs when they read it. An unknown id is erased too (202): other
   * services may hold data about it, and it takes no events afterwards.
   */
  @Delete(':customerId')
  @HttpCode(202)
  async erase(@Param('customerId') customerId: string): Promise<void> {
    await this.erasure.execute(customerId);
  }
}
