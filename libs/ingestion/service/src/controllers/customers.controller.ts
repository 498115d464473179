import type { CustomerProfileSnapshot } from '@mmp/contracts';
import { AppError } from '@mmp/errors';
import { queryOf, Route, type Page } from '@mmp/server';
import { Controller, Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import {
  CustomerDirectoryQuery,
  type CustomerSummary,
  type StoredEvent,
} from '../store/customer-directory.query';
import { ProfileStore } from '../store/profile.store';
import { EraseCustomerUsecase } from '../usecases/erase-customer/erase-customer.usecase';
import {
  customerEventsRoute,
  eraseCustomerRoute,
  getCustomerRoute,
  searchCustomersRoute,
} from './customers.routes';

@Controller('v1/customers')
export class CustomersController {
  constructor(
    private readonly profiles: ProfileStore,
    private readonly directory: CustomerDirectoryQuery,
    private readonly erasure: EraseCustomerUsecase,
  ) {}

  /** Customer search for the console: by the start of an id, email or phone, a page at a time. */
  @Get()
  @Route(searchCustomersRoute)
  async search(@Query() raw: unknown): Promise<Page<CustomerSummary>> {
    const query = queryOf(searchCustomersRoute, raw);
    return this.directory.search(query.query, query.limit, query.cursor);
  }

  /** The profile with its traits and computed attributes; 404 if unknown or erased (SPEC section 6). */
  @Get(':customerId')
  @Route(getCustomerRoute)
  async get(@Param('customerId') customerId: string): Promise<CustomerProfileSnapshot> {
    const profile = await this.profiles.findProfile(customerId);
    if (!profile) throw AppError.notFound(`customer ${customerId} is not known`);
    return profile;
  }

  /** The customer's events, newest first, for the console's timeline. */
  @Get(':customerId/events')
  @Route(customerEventsRoute)
  async events(@Param('customerId') customerId: string, @Query() raw: unknown): Promise<Page<StoredEvent>> {
    const query = queryOf(customerEventsRoute, raw);
    if (!(await this.directory.isKnown(customerId)))
      throw AppError.notFound(`customer ${customerId} is not known`);
    return this.directory.eventsOf(customerId, query.type, query.limit, query.cursor);
  }

  /**
   * Erasure (SPEC section 6): 202 once ingestion's part is done and the erasure event is out;
   * the other services erase theirs when they read it. An unknown id is erased too (202): other
   * services may hold data about it, and it takes no events afterwards.
   */
  @Delete(':customerId')
  @Route(eraseCustomerRoute)
  @HttpCode(202)
  async erase(@Param('customerId') customerId: string): Promise<void> {
    await this.erasure.execute(customerId);
  }
}
