import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppError } from '../../common/errors/app-error.js';
import { PageQueryDto, paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { Tenant } from './entities/tenant.entity.js';

@Injectable()
export class TenantsService {
  constructor(@InjectRepository(Tenant) private readonly tenants: Repository<Tenant>) {}

  create(name: string): Promise<Tenant> {
    return this.tenants.save(this.tenants.create({ id: newId('TNT'), name, settings: {} }));
  }

  async get(id: string): Promise<Tenant> {
    const tenant = await this.tenants.findOneBy({ id });
    if (!tenant) throw AppError.notFound('Tenant', id);
    return tenant;
  }

  list(page: PageQueryDto) {
    return paginate(this.tenants.createQueryBuilder('t'), page);
  }

  async isEmpty(): Promise<boolean> {
    return !(await this.tenants.exists());
  }
}
