import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HooksModule } from '../hooks/hooks.module.js';
import { MediaFile } from './entities/media-file.entity.js';
import { Message } from './entities/message.entity.js';
import { MediaDownloaderService } from './media-downloader.service.js';
import { MessagesController } from './messages.controller.js';
import { MessagesService } from './messages.service.js';
import { SendQueueService } from './send-queue.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Message, MediaFile]), HooksModule],
  controllers: [MessagesController],
  providers: [MessagesService, SendQueueService, MediaDownloaderService],
  exports: [MessagesService, SendQueueService, MediaDownloaderService],
})
export class MessagesModule {}
